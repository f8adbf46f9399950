"""Shared start-up for the Python peers: arguments, logging and the event loop.

Every peer takes --host, --port (0 lets the kernel choose), --uvloop and
--log-level (default WARNING, so nothing is logged per connection during a bench),
and prints `listening on HOST PORT` on stdout once its server is bound.
"""
import argparse
import asyncio
import logging
import sys


def parse_args(description, extra=None):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=0)
    parser.add_argument('--uvloop', action='store_true',
                        help='run on uvloop instead of the default asyncio loop')
    parser.add_argument('--log-level', default='WARNING')
    # asyncio's default backlog is 100: with 1,000 clients connecting at once the
    # kernel drops SYNs and each retry waits a second. 511 is Node's default.
    parser.add_argument('--backlog', type=int, default=511)
    if extra:
        extra(parser)
    args = parser.parse_args()
    logging.basicConfig(
        level=getattr(logging, args.log_level.upper()),
        format='%(name)s: %(message)s',
        stream=sys.stderr,
    )
    return args


def run(args, start):
    """Runs `start()` (a coroutine returning an asyncio.Server) until killed."""
    if args.uvloop:
        import uvloop  # Debian's python3-uvloop, for /usr/bin/python3
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())

    async def main():
        server = await start()
        host, port = server.sockets[0].getsockname()[:2]
        print(f'listening on {host} {port}', flush=True)
        async with server:
            await server.serve_forever()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
