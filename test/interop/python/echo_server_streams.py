"""Seed 000's streams echo server (asyncio_echo_server_coroutine.py), for interop tests.

As in the seed: start_server with a coroutine per connection, a logger named
echo_HOST_PORT, read(128), write the data back and drain, close at EOF.
Changes for testing: HOST and PORT come from the command line
(python3 echo_server_streams.py HOST PORT; port 0 picks a free one), asyncio.run
replaces the deprecated get_event_loop, and once bound the server prints
`listening on HOST PORT` on stdout (with the real port) so the test can connect.
SIGTERM ends it.
"""
import asyncio
import logging
import signal
import sys

logging.basicConfig(
    level=logging.DEBUG,
    format='%(name)s: %(message)s',
    stream=sys.stderr,
)
log = logging.getLogger('main')


async def echo(reader, writer):
    address = writer.get_extra_info('peername')
    log = logging.getLogger('echo_{}_{}'.format(*address))
    log.debug('connection accepted')
    while True:
        data = await reader.read(128)
        if data:
            log.debug('received {!r}'.format(data))
            writer.write(data)
            await writer.drain()
            log.debug('sent {!r}'.format(data))
        else:
            log.debug('closing')
            writer.close()
            return


async def main(host, port):
    server = await asyncio.start_server(echo, host, port)
    real_port = server.sockets[0].getsockname()[1]
    log.debug('starting up on {} port {}'.format(host, real_port))
    print('listening on {} {}'.format(host, real_port), flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with server:
        await stop.wait()
    log.debug('closing server')


if __name__ == '__main__':
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
