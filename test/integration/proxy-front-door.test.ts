import assert from "node:assert/strict";
import net from "node:net";
import { afterEach, describe, test } from "node:test";
import { setImmediate as tick } from "node:timers/promises";
import type { ProxyRefusedError } from "../../src/errors.js";
import { buildProxyHeaderV1 } from "../../src/framing/proxy-header-build-v1.js";
import { buildProxyHeaderV2 } from "../../src/framing/proxy-header-build-v2.js";
import type {
  ConnectionInfo,
  ProxyInfo,
  SocketAddress,
} from "../../src/protocols/connection-info.js";
import type { Server, ServerOptions } from "../../src/protocols/server.js";
import { startServer } from "../../src/streams/start-server.js";
import type { StreamReader } from "../../src/streams/stream-reader.js";
import type { StreamWriter } from "../../src/streams/stream-writer.js";
import { rawConnect, readToClose, WAIT_MS } from "../helpers/net.js";
import { CLIENT, echoWithPeer, FRONT, V1 } from "../helpers/proxied-peer.js";
import { serverPort, shutDown } from "../helpers/servers.js";
import { VirtualClock } from "../helpers/virtual-clock.js";
import { waitFor, withTimeout } from "../helpers/with-timeout.js";

const V2 = buildProxyHeaderV2({
  source: CLIENT,
  destination: FRONT,
  tlvs: { authority: "example.test", uniqueId: Buffer.from("id-1") },
});

/** A served connection as its handler saw it. */
interface Seen {
  peername: SocketAddress;
  sockname: SocketAddress;
  proxy: ProxyInfo | undefined;
}

let server: Server | undefined;
let seen: Seen[] = [];
let refusals: { error: ProxyRefusedError; info: ConnectionInfo }[] = [];

/** Answers each line with `ADDRESS:PORT LINE`, from the connection's peername. */
async function peerEcho(reader: StreamReader, writer: StreamWriter): Promise<void> {
  const peer = writer.getExtraInfo("peername") as SocketAddress;
  seen.push({
    peername: peer,
    sockname: writer.getExtraInfo("sockname") as SocketAddress,
    proxy: writer.getExtraInfo("proxy") as ProxyInfo | undefined,
  });
  await echoWithPeer(reader, writer, peer);
}

async function start(
  proxy: ServerOptions["proxyProtocol"] = {},
  options: ServerOptions = {},
): Promise<number> {
  server = await startServer(peerEcho, "127.0.0.1", 0, {
    ...options,
    proxyProtocol: { onRefused: (error, info) => refusals.push({ error, info }), ...proxy },
    onError: (error) => assert.fail(`unexpected onError: ${error.stack}`),
  });
  return serverPort(server);
}

/** Writes `bytes` in pieces cut at `cuts`, a turn of the event loop between them, then ends. */
async function sendSplit(socket: net.Socket, bytes: Buffer, cuts: number[]): Promise<void> {
  socket.setNoDelay(true);
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    socket.write(bytes.subarray(from, cut));
    from = cut;
    await tick();
    await tick();
  }
  socket.end();
}

afterEach(async () => {
  if (server !== undefined) await shutDown(server);
  server = undefined;
  seen = [];
  refusals = [];
});

describe("PROXY protocol front door", () => {
  for (const [name, header] of [
    ["v1", V1],
    ["v2", V2],
  ] as const) {
    test(`${name}: the client is the header's source, whatever the segments`, async () => {
      const port = await start();
      const bytes = Buffer.concat([header, Buffer.from("hello\n")]);
      const splits = [[1], [5, 6, 12], [13, 14, 15, 16], [header.length - 1], [header.length]];
      for (const cuts of splits) {
        const socket = await rawConnect(port);
        const received = readToClose(socket);
        await sendSplit(socket, bytes, cuts);
        assert.equal((await received).data.toString(), "203.0.113.7:40000 hello\n", `cuts ${cuts}`);
      }
      // The header and two lines in one segment, with the FIN: nothing after the header lost.
      const socket = await rawConnect(port);
      const received = readToClose(socket);
      socket.end(Buffer.concat([header, Buffer.from("one\ntwo\n")]));
      assert.equal(
        (await received).data.toString(),
        "203.0.113.7:40000 one\n203.0.113.7:40000 two\n",
      );
      assert.equal(seen.length, splits.length + 1);
      for (const s of seen) {
        assert.deepEqual(s.peername, { ...CLIENT, family: "IPv4" });
        assert.deepEqual(s.sockname, { ...FRONT, family: "IPv4" });
        assert.equal(s.proxy?.header.version, name === "v1" ? 1 : 2);
        assert.equal((s.proxy?.peername as SocketAddress).address, "127.0.0.1");
      }
      assert.deepEqual(refusals, []);
    });
  }

  test("v2 TLVs are getExtraInfo('proxy').tlvs", async () => {
    const port = await start();
    const socket = await rawConnect(port);
    const received = readToClose(socket);
    socket.end(Buffer.concat([V2, Buffer.from("x\n")]));
    await received;
    const tlvs = seen[0]?.proxy?.tlvs;
    assert.equal(tlvs?.authority, "example.test");
    assert.equal(tlvs?.uniqueId?.toString(), "id-1");
    assert.equal(tlvs?.raw.length, 2);
  });

  test("an IPv6 source is an IPv6 peername", async () => {
    const port = await start();
    const socket = await rawConnect(port);
    const received = readToClose(socket);
    const header = buildProxyHeaderV2({
      source: { address: "2001:db8::7", port: 5 },
      destination: { address: "2001:db8::1", port: 80 },
    });
    socket.end(Buffer.concat([header, Buffer.from("x\n")]));
    assert.equal((await received).data.toString(), "2001:db8::7:5 x\n");
    assert.equal(seen[0]?.peername.family, "IPv6");
  });

  test("LOCAL (a health check) keeps the real endpoints and is served", async () => {
    const port = await start();
    const socket = await rawConnect(port);
    const localPort = socket.localPort;
    const received = readToClose(socket);
    const local = buildProxyHeaderV2({ command: "local", tlvs: { noop: 3 } });
    socket.end(Buffer.concat([local, Buffer.from("ping\n")]));
    assert.equal((await received).data.toString(), `127.0.0.1:${localPort} ping\n`);
    assert.equal(seen[0]?.proxy?.header.command, "local");
    assert.equal(seen[0]?.sockname.port, port);
    assert.deepEqual(refusals, []);
  });

  test("a connection from an untrusted address is closed unread, a forged header unheeded", async () => {
    const port = await start({ trusted: ["127.0.0.1/32"] });
    const socket = net.connect({ port, host: "127.0.0.1", localAddress: "127.0.0.2" });
    const received = readToClose(socket);
    socket.write(Buffer.concat([V1, Buffer.from("forged\n")]));
    const { data } = await received;
    assert.equal(data.length, 0);
    assert.equal(seen.length, 0, "never served");
    assert.equal(refusals.length, 1);
    assert.equal(refusals[0]?.error.reason, "untrusted");
    assert.equal(refusals[0]?.error.code, "ERR_PROXY_REFUSED");
    assert.match(
      refusals[0]?.error.message ?? "",
      /^Cannot accept connection: 127\.0\.0\.2 port \d+ is not a trusted proxy$/,
    );
    assert.equal((refusals[0]?.info.peername as SocketAddress).address, "127.0.0.2");
    assert.equal(server?.proxyRefused, 1);
  });

  test("a trusted BlockList is taken as it is", async () => {
    const list = new net.BlockList();
    list.addAddress("127.0.0.2");
    const port = await start({ trusted: list });
    const refused = await rawConnect(port);
    assert.equal((await readToClose(refused)).data.length, 0);
    const socket = net.connect({ port, host: "127.0.0.1", localAddress: "127.0.0.2" });
    const received = readToClose(socket);
    socket.end(Buffer.concat([V1, Buffer.from("ok\n")]));
    assert.equal((await received).data.toString(), "203.0.113.7:40000 ok\n");
  });

  test("a connection without a header (or a malformed one) is closed at its first wrong byte", async () => {
    const port = await start();
    const socket = await rawConnect(port);
    const received = readToClose(socket);
    socket.write("GET / HTTP/1.0\r\n\r\n");
    assert.equal((await received).data.length, 0);
    assert.equal(seen.length, 0);
    assert.equal(refusals[0]?.error.reason, "malformed");
    assert.equal((refusals[0]?.error.cause as Error).name, "ProxyHeaderError");
    assert.match(
      refusals[0]?.error.message ?? "",
      /^Cannot accept connection from 127\.0\.0\.1 port \d+: Cannot parse PROXY header: first byte 0x47/,
    );
  });

  test("a partial v2 header at EOF is refused as incomplete", async () => {
    const port = await start();
    const socket = await rawConnect(port);
    const received = readToClose(socket);
    socket.end(V2.subarray(0, 20));
    assert.equal((await received).data.length, 0);
    assert.equal(seen.length, 0);
    assert.equal(refusals[0]?.error.reason, "incomplete");
    assert.match(refusals[0]?.error.message ?? "", /ended within its PROXY header \(20 bytes\)/);
  });

  test("no complete header within headerTimeout closes the connection, on the server's clock", async () => {
    const clock = new VirtualClock();
    const port = await start({ headerTimeout: 3000 }, { clock });
    const socket = await rawConnect(port);
    const received = readToClose(socket);
    socket.write(V1.subarray(0, 10));
    await waitFor(() => clock.pending > 0, WAIT_MS, "the header timer");
    await clock.advance(2999);
    assert.equal(socket.destroyed, false, "still open 1 ms before the timeout");
    assert.equal(refusals.length, 0);
    await clock.advance(2);
    assert.equal((await received).data.length, 0);
    assert.equal(refusals[0]?.error.reason, "timeout");
    assert.match(
      refusals[0]?.error.message ?? "",
      /no complete PROXY header within 3000 ms \(10 bytes\)/,
    );
    assert.equal(clock.pending, 0);
  });

  test("a complete header stops its timer", async () => {
    const clock = new VirtualClock();
    const port = await start({}, { clock });
    const socket = await rawConnect(port);
    const received = readToClose(socket);
    socket.write(V1);
    await waitFor(() => seen.length === 1, WAIT_MS, "the connection to be served");
    await clock.advance(10_000);
    socket.end("late\n");
    assert.equal((await received).data.toString(), "203.0.113.7:40000 late\n");
    assert.deepEqual(refusals, []);
  });

  test("refusals are reported at most once a second, with a count of the others", async () => {
    const clock = new VirtualClock();
    const port = await start({}, { clock });
    for (let i = 0; i < 3; i++) {
      const socket = await rawConnect(port);
      const received = readToClose(socket);
      socket.write("nope\n");
      await received;
    }
    assert.equal(refusals.length, 1);
    assert.equal(server?.proxyRefused, 3);
    await clock.advance(1000);
    const socket = await rawConnect(port);
    const received = readToClose(socket);
    socket.write("nope\n");
    await received;
    assert.equal(refusals.length, 2);
    assert.match(refusals[1]?.error.message ?? "", /\(2 more since the last report\)$/);
  });

  test("the per-peer limit counts the header's address, once the header has arrived", async () => {
    const drops: { reason: string; info: ConnectionInfo }[] = [];
    const port = await start(
      {},
      { maxConnectionsPerPeer: 1, onDrop: (_socket, reason, info) => drops.push({ reason, info }) },
    );
    const header = (address: string) =>
      buildProxyHeaderV1({ source: { address, port: 1000 }, destination: FRONT });
    const open = async (address: string) => {
      const socket = await rawConnect(port);
      const received = readToClose(socket);
      socket.write(Buffer.concat([header(address), Buffer.from("hi\n")]));
      return { socket, received };
    };
    // Three connections from 127.0.0.1, two clients: only the second one of client A is refused.
    const a = await open("192.0.2.1");
    const b = await open("192.0.2.2");
    await waitFor(() => seen.length === 2, WAIT_MS, "both clients served");
    const again = await open("192.0.2.1");
    assert.equal((await again.received).data.length, 0);
    assert.equal(drops.length, 1);
    assert.equal(drops[0]?.reason, "maxConnectionsPerPeer");
    assert.equal((drops[0]?.info.peername as SocketAddress).address, "192.0.2.1");
    a.socket.end();
    b.socket.end();
    assert.equal((await a.received).data.toString(), "192.0.2.1:1000 hi\n");
    assert.equal((await b.received).data.toString(), "192.0.2.2:1000 hi\n");
  });

  test("server.close() drops connections still sending their header", async () => {
    const port = await start();
    const socket = await rawConnect(port);
    const received = readToClose(socket);
    socket.write(V1.subarray(0, 8));
    await tick();
    await tick();
    server?.close();
    assert.equal((await received).data.length, 0);
    await withTimeout(server?.waitClosed() ?? Promise.resolve(), WAIT_MS, "server closed");
  });

  test("options are checked before listening", async () => {
    const bad: [ServerOptions, RegExp, ErrorConstructor][] = [
      [
        { proxyProtocol: { trusted: ["10.0.0.0/33"] } },
        /not an IPv4 or IPv6 address or CIDR/,
        RangeError,
      ],
      [
        { proxyProtocol: { trusted: ["localhost"] } },
        /not an IPv4 or IPv6 address or CIDR/,
        RangeError,
      ],
      [{ proxyProtocol: { headerTimeout: 0 } }, /headerTimeout must be an integer/, RangeError],
      [{ proxyProtocol: { maxHeaderBytes: 8 } }, /maxHeaderBytes/, RangeError],
    ];
    for (const [options, message, type] of bad) {
      await assert.rejects(startServer(peerEcho, "127.0.0.1", 0, options), (error: Error) => {
        assert.ok(error instanceof type, `${error.name} for ${message}`);
        assert.match(error.message, message);
        return true;
      });
    }
  });
});
