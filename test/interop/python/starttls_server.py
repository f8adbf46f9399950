"""STARTTLS server with asyncio's StreamWriter.start_tls (Python 3.11+).

Usage: starttls_server.py CERTFILE KEYFILE. Listens on 127.0.0.1, port 0,
prints the port, and for each connection: `220` greeting, reads `STARTTLS`,
answers `220 ready`, upgrades, then answers one line with `250 secure <line>`
and closes. Exits when stdin closes.
"""

import asyncio
import ssl
import sys


async def main(certfile: str, keyfile: str) -> None:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certfile, keyfile)

    async def handle(reader, writer):
        writer.write(b"220 python ESMTP\r\n")
        await asyncio.wait_for(reader.readline(), 10)
        writer.write(b"220 ready\r\n")
        await writer.drain()
        await asyncio.wait_for(writer.start_tls(context), 10)
        line = await asyncio.wait_for(reader.readline(), 10)
        version = writer.get_extra_info("ssl_object").version()
        writer.write(b"250 secure " + version.encode() + b" " + line)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()


asyncio.run(main(sys.argv[1], sys.argv[2]))
