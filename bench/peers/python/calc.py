"""Seed 002's calculator (example6's process_request) on asyncio streams, as a bench peer.

The seed's logic per connection: send the welcome, then for each line (rstripped):
`quit`, `sum`, `product`, or comma-separated integers answered with their sum or
product (Python's int(), exact at any size), else the error line. The seed's
`sendall` becomes write + drain. The seed's per-line print() becomes a debug log,
so that nothing is written per connection at the default WARNING level.
"""
import asyncio
import logging
from functools import reduce
from operator import mul

from common import parse_args, run

args = parse_args('asyncio calculator server (seed 002)')
log = logging.getLogger('calc')


async def process_request(reader, writer):
    address = writer.get_extra_info('peername')
    log.debug('Received connection from %s', address)
    mode = 'sum'
    try:
        writer.write(b'<welcome: starting in sum mode>\n')
        await writer.drain()
        while True:
            raw = await reader.readline()
            if not raw:
                return
            line = raw.decode('utf-8', 'replace').rstrip()
            if line == 'quit':
                writer.write(b'connection closed\r\n')
                await writer.drain()
                return
            if line == 'sum':
                writer.write(b'<switching to sum mode>\r\n')
                await writer.drain()
                mode = 'sum'
                continue
            if line == 'product':
                writer.write(b'<switching to product mode>\r\n')
                await writer.drain()
                mode = 'product'
                continue
            log.debug('%s --> %s', address, line)
            try:
                nums = list(map(int, line.split(',')))
            except ValueError:
                writer.write(b'ERROR. Enter only integers separated by commas\n')
                await writer.drain()
                continue
            if mode == 'sum':
                writer.write(b'Sum of input numbers: %a\r\n' % str(sum(nums)))
            else:
                writer.write(b'Product of input numbers: %a\r\n' % str(reduce(mul, nums, 1)))
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        log.debug('%s quit', address)
        writer.close()


run(args, lambda: asyncio.start_server(process_request, args.host, args.port, backlog=args.backlog))
