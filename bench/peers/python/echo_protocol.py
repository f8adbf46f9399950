"""Seed 003's protocol echo server (asyncio_echo_server_protocol.py) as a bench peer.

As in the seed: an asyncio.Protocol per connection with a logger named
EchoServer_HOST_PORT; data_received writes the data back; eof_received answers
with EOF when the transport can. Log calls pass their arguments lazily, so that
at WARNING nothing is formatted per chunk.
"""
import asyncio
import logging

from common import parse_args, run

args = parse_args('asyncio protocol echo server (seed 003)')


class EchoServer(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport
        self.address = transport.get_extra_info('peername')
        self.log = logging.getLogger('EchoServer_{}_{}'.format(*self.address))
        self.log.debug('connection accepted')

    def data_received(self, data):
        self.log.debug('received %r', data)
        self.transport.write(data)
        self.log.debug('sent %r', data)

    def eof_received(self):
        self.log.debug('received EOF')
        if self.transport.can_write_eof():
            self.transport.write_eof()

    def connection_lost(self, error):
        if error:
            self.log.error('ERROR: %s', error)
        else:
            self.log.debug('closing')
        super().connection_lost(error)


async def start():
    loop = asyncio.get_running_loop()
    return await loop.create_server(EchoServer, args.host, args.port, backlog=args.backlog)


run(args, start)
