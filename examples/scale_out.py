"""Scale-out: a CPU-bound fan-out that runs on local processes or on a Dask cluster.

    python examples/scale_out.py primes --chunks 8 --size 20000
    python examples/scale_out.py --executor dask:2 primes      # an in-process LocalCluster
    python examples/scale_out.py --executor dask://scheduler:8786 primes   # a real cluster

The same `ProcessPoolAction` counts the primes in each chunk of numbers; `--executor`
(or `FALYX_EXECUTOR`) decides where the chunks run. Dask needs `pip install 'falyx[dask]'`.
"""

from falyx import Falyx
from falyx.action import ProcessPoolAction, ProcessTask

app = Falyx("🔢 Scale-out demo")


def count_primes(start: int, stop: int) -> int:
    """Primes in [start, stop), by trial division: deliberately CPU-bound."""
    count = 0
    for n in range(max(start, 2), stop):
        if all(n % d for d in range(2, int(n**0.5) + 1)):
            count += 1
    return count


def fan_out(chunks: int, size: int) -> ProcessPoolAction:
    tasks = [ProcessTask(count_primes, (i * size, (i + 1) * size)) for i in range(chunks)]
    return ProcessPoolAction("count_primes", tasks)


async def primes(chunks: int = 8, size: int = 20_000) -> int:
    """Count the primes below chunks*size, one chunk per worker task."""
    per_chunk = await fan_out(chunks, size)()
    total = sum(per_chunk)
    print(f"{total} primes below {chunks * size} ({len(per_chunk)} chunks)", flush=True)
    return total


app.command(key="P")(primes)

if __name__ == "__main__":
    app()
