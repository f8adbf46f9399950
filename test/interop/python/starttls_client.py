"""STARTTLS client with asyncio's StreamWriter.start_tls (Python 3.11+).

Usage: starttls_client.py PORT CAFILE. Talks SMTP-style to 127.0.0.1:PORT
(greeting, EHLO, STARTTLS, upgrade, NOOP, QUIT) and prints each reply line,
and the TLS version once upgraded.
"""

import asyncio
import ssl
import sys


async def main(port: int, cafile: str) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    out = []

    async def line() -> bytes:
        got = await asyncio.wait_for(reader.readline(), 10)
        out.append(got.decode("latin1").rstrip("\r\n"))
        return got

    await line()
    writer.write(b"EHLO python\r\n")
    while not (await line()).startswith(b"250 "):
        pass
    writer.write(b"STARTTLS\r\n")
    await line()
    context = ssl.create_default_context(cafile=cafile)
    await asyncio.wait_for(writer.start_tls(context, server_hostname="localhost"), 10)
    out.append("tls " + writer.get_extra_info("ssl_object").version())
    writer.write(b"NOOP\r\n")
    await line()
    writer.write(b"QUIT\r\n")
    await line()
    writer.close()
    print("\n".join(out), flush=True)


asyncio.run(main(int(sys.argv[1]), sys.argv[2]))
