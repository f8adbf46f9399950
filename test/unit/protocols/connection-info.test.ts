import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { captureConnectionInfo, peerKey } from "../../../src/protocols/connection-info.js";

describe("captureConnectionInfo", () => {
  test("copies a TCP socket's addresses into frozen objects of their own", () => {
    const local = { address: "127.0.0.1", port: 8080, family: "IPv4" };
    const socket = {
      remoteAddress: "::1",
      remotePort: 5000,
      remoteFamily: "IPv6",
      address: () => local,
    };
    const info = captureConnectionInfo(socket);
    assert.deepEqual(JSON.parse(JSON.stringify(info)), {
      peername: { address: "::1", port: 5000, family: "IPv6" },
      sockname: local,
    });
    assert.deepEqual(info.peername, { address: "::1", port: 5000, family: "IPv6" });
    assert.notEqual(info.sockname, local, "not Node's own object, which it may change");
    assert.ok(Object.isFrozen(info) && Object.isFrozen(info.peername));
    local.port = 1;
    assert.deepEqual(info.sockname, { address: "127.0.0.1", port: 8080, family: "IPv4" });
  });

  test("a Unix socket's ends take the names given, the unnamed one as the empty string", () => {
    const socket = { address: () => ({}) };
    const info = captureConnectionInfo(socket, { sockname: "/run/s.sock", peername: "" });
    assert.deepEqual(
      { peername: info.peername, sockname: info.sockname },
      {
        peername: "",
        sockname: "/run/s.sock",
      },
    );
  });

  test("a stream that is not a socket has no addresses and no TLS state", () => {
    const info = captureConnectionInfo({});
    assert.deepEqual(
      { peername: info.peername, sockname: info.sockname },
      {
        peername: undefined,
        sockname: undefined,
      },
    );
    assert.equal(info.tls, undefined);
    // Absent, as ConnectionInfo says, not a slot holding undefined.
    assert.equal(Object.hasOwn(info, "tls"), false);
  });

  test("a TLS socket's state is taken with it", () => {
    const cipher = { name: "TLS_AES_128_GCM_SHA256", standardName: "x", version: "TLSv1.3" };
    const socket = {
      encrypted: true,
      getProtocol: () => "TLSv1.3",
      getCipher: () => cipher,
      getPeerCertificate: () => ({}),
      authorized: false,
      alpnProtocol: false,
    };
    assert.deepEqual(captureConnectionInfo(socket).tls, {
      protocol: "TLSv1.3",
      cipher,
      peerCertificate: {},
      authorized: false,
      alpnProtocol: false,
    });
  });
});

describe("peerKey", () => {
  test("is the peer's IP address, and undefined for a path or an unknown peer", () => {
    const tcp = { address: "10.0.0.1", port: 1, family: "IPv4" };
    assert.equal(peerKey({ peername: tcp, sockname: undefined }), "10.0.0.1");
    assert.equal(peerKey({ peername: "", sockname: "/run/s.sock" }), undefined);
    assert.equal(peerKey({ peername: undefined, sockname: undefined }), undefined);
  });
});
