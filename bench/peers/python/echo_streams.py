"""Seed 000's streams echo server (asyncio_echo_server_coroutine.py) as a bench peer.

As in the seed: one coroutine per connection, a logger named echo_HOST_PORT,
read a chunk, write it back, await drain, close at EOF. Two changes, both for the
benchmark: the read size is a flag (the seed reads 128 bytes; the default here is
65536, Node's own read size, so bulk transfers compare like with like), and log
calls pass their arguments lazily, so that at WARNING no repr() is built per chunk.
"""
import asyncio
import logging

from common import parse_args, run


def add_args(parser):
    parser.add_argument('--read-size', type=int, default=65536)


args = parse_args('asyncio streams echo server (seed 000)', add_args)
READ_SIZE = args.read_size


async def echo(reader, writer):
    address = writer.get_extra_info('peername')
    log = logging.getLogger('echo_{}_{}'.format(*address))
    log.debug('connection accepted')
    while True:
        data = await reader.read(READ_SIZE)
        if data:
            log.debug('received %r', data)
            writer.write(data)
            await writer.drain()
            log.debug('sent %r', data)
        else:
            log.debug('closing')
            writer.close()
            return


run(args, lambda: asyncio.start_server(echo, args.host, args.port, backlog=args.backlog))
