"""What the payload codec costs: ``python -m backend.bench.codec_cost``.

Seals and opens payloads of the sizes a turn carries (a signal, a model call's
input as the conversation grows, a reply) and prints microseconds for each and
for one turn of a 40-item conversation: its send signal, two model calls' input
and output, a tool call, the turn's events and the history query.
"""

from __future__ import annotations

import json
import time

from temporalio.api.common.v1 import Payload

from backend.encryption.codec import EncryptionCodec
from backend.encryption.payload_key import PayloadKey

ROUNDS = 2000


def _payload(size: int) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=json.dumps("x" * size).encode())


def cost_us(codec: EncryptionCodec, size: int) -> float:
    """Median microseconds to seal and open one payload of ``size`` bytes."""
    payload = _payload(size)
    rounds = max(20, ROUNDS * 1024 // max(size, 1024))
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        codec.decrypt(codec.encrypt(payload))
        samples.append(time.perf_counter() - start)
    samples.sort()
    return samples[len(samples) // 2] * 1e6


def main() -> int:
    codec = EncryptionCodec([PayloadKey.new()])
    sizes = [200, 4_096, 65_536, 1_048_576]
    for size in sizes:
        print(f"seal + open {size:>9,} bytes: {cost_us(codec, size):8.1f} us")
    # One turn of a 40-item conversation (~60 KB of model input): the send signal,
    # two model calls (input 60 KB, output 4 KB each), a tool call (1 KB both ways),
    # about 6 small workflow-task payloads, and the history view (60 KB).
    turn = (
        cost_us(codec, 200) * 7
        + 2 * (cost_us(codec, 65_536) + cost_us(codec, 4_096))
        + 2 * cost_us(codec, 1_024)
        + cost_us(codec, 65_536)
    )
    print(f"one turn of a 40-item conversation: {turn / 1000:.3f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
