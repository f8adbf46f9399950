# fixed-load.py PORT CONNS K PIPE [LINE] [WELCOME]: CONNS connections each send K lines, PIPE in flight,
# after reading WELCOME lines (default 1); each reply is one line.
import asyncio,sys
port,conns,k,pipe=int(sys.argv[1]),int(sys.argv[2]),int(sys.argv[3]),int(sys.argv[4])
line=(sys.argv[5] if len(sys.argv)>5 else "12,34,56").encode()+b"\n"
welcome=int(sys.argv[6]) if len(sys.argv)>6 else 1
async def one():
    r,w=await asyncio.open_connection('127.0.0.1',port)
    for _ in range(welcome): await r.readline()
    sent=got=0
    while got<k:
        while sent<k and sent-got<pipe:
            w.write(line); sent+=1
        await r.readline(); got+=1
    w.close()
async def main():
    # staggered: a slow server's accept queue must not overflow (SYN retries take seconds)
    tasks=[]
    for i in range(conns):
        tasks.append(asyncio.ensure_future(one()))
        if i % 50 == 49: await asyncio.sleep(0.2)
    await asyncio.gather(*tasks)
asyncio.run(main())
