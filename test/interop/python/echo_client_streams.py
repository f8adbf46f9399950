"""Seed 000's streams echo client (asyncio_echo_client_coroutine.py), for interop tests.

As in the seed: open_connection, the messages written one by one, write_eof when
the transport can, drain, then read(128) until EOF, logging each step on the
echo_client logger at DEBUG. Changes for testing: the address and the messages
come from the command line (python3 echo_client_streams.py HOST PORT [MESSAGE...]),
asyncio.run replaces the deprecated get_event_loop, and everything received is
also written to stdout, so the test can compare it byte for byte.
"""
import asyncio
import logging
import sys

MESSAGES = [
    b'This is the message. ',
    b'It will be sent ',
    b'in parts.',
]

logging.basicConfig(
    level=logging.DEBUG,
    format='%(name)s: %(message)s',
    stream=sys.stderr,
)
log = logging.getLogger('main')


async def echo_client(address, messages):
    log = logging.getLogger('echo_client')
    log.debug('connecting to {} port {}'.format(*address))
    reader, writer = await asyncio.open_connection(*address)

    for msg in messages:
        writer.write(msg)
        log.debug('sending {!r}'.format(msg))
    if writer.can_write_eof():
        writer.write_eof()
    await writer.drain()

    log.debug('waiting for response')
    while True:
        data = await reader.read(128)
        if data:
            log.debug('received {!r}'.format(data))
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        else:
            log.debug('closing')
            writer.close()
            await writer.wait_closed()
            return


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    messages = [m.encode() for m in sys.argv[3:]] or MESSAGES
    try:
        asyncio.run(echo_client((host, port), messages))
    finally:
        log.debug('closing event loop')


if __name__ == '__main__':
    main()
