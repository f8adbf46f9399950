/**
 * What the PROXY protocol integration tests share: the client and front
 * addresses a header carries, its v1 bytes, and the echo that answers with
 * the peer the server was told.
 */
import { buildProxyHeaderV1 } from "../../src/framing/proxy-header-build-v1.js";
import type { SocketAddress } from "../../src/protocols/connection-info.js";
import type { StreamReader } from "../../src/streams/stream-reader.js";
import type { StreamWriter } from "../../src/streams/stream-writer.js";

/** The client behind the proxy, as a header names it. */
export const CLIENT = { address: "203.0.113.7", port: 40000 };
/** The proxy's front address, as a header names it. */
export const FRONT = { address: "198.51.100.1", port: 443 };
/** A v1 header from CLIENT to FRONT. */
export const V1 = buildProxyHeaderV1({ source: CLIENT, destination: FRONT });

/** Answers each line with `ADDRESS:PORT LINE` of `peer` until EOF, then closes. */
export async function echoWithPeer(
  reader: StreamReader,
  writer: StreamWriter,
  peer: SocketAddress,
): Promise<void> {
  for (;;) {
    const line = await reader.readLine();
    if (line.length === 0) break;
    writer.write(`${peer.address}:${peer.port} ${line.toString()}`);
  }
  writer.close();
}
