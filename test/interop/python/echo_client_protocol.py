"""Seed 003's protocol echo client (asyncio_echo_client_protocol.py), for interop tests.

As in the seed: an asyncio.Protocol that writes its messages on connection_made,
then write_eof when it can; logs each received chunk; closes on eof_received and
marks its future done, once, from eof_received or connection_lost. Changes for
testing: the address and messages come from the command line
(python3 echo_client_protocol.py HOST PORT [MESSAGE...]); the seed's misspelt
`connnection_lost` (never called) is spelt right; asyncio.run replaces the
deprecated get_event_loop; what is received is also written to stdout.
"""
import asyncio
import functools
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


class EchoClient(asyncio.Protocol):
    def __init__(self, messages, future):
        super().__init__()
        self.messages = messages
        self.log = logging.getLogger('EchoClient')
        self.f = future

    def connection_made(self, transport):
        self.transport = transport
        self.address = transport.get_extra_info('peername')
        self.log.debug('connecting to {} port {}'.format(*self.address))
        for msg in self.messages:
            transport.write(msg)
            self.log.debug('sending {!r}'.format(msg))
        if transport.can_write_eof():
            transport.write_eof()

    def data_received(self, data):
        self.log.debug('received {!r}'.format(data))
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()

    def eof_received(self):
        self.log.debug('received EOF')
        self.transport.close()
        if not self.f.done():
            self.f.set_result(True)

    def connection_lost(self, exc):
        self.log.debug('server closed connection')
        self.transport.close()
        if not self.f.done():
            self.f.set_result(True)
        super().connection_lost(exc)


async def main(address, messages):
    loop = asyncio.get_running_loop()
    client_completed = loop.create_future()
    client_factory = functools.partial(EchoClient, messages=messages, future=client_completed)
    log.debug('waiting for client to complete')
    await loop.create_connection(client_factory, *address)
    await client_completed


if __name__ == '__main__':
    host, port = sys.argv[1], int(sys.argv[2])
    messages = [m.encode() for m in sys.argv[3:]] or MESSAGES
    try:
        asyncio.run(main((host, port), messages))
    finally:
        log.debug('closing event loop')
