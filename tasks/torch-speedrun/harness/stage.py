"""Trusted: gives one run its own data. Copies the prepared splits with every ASCII byte relabelled by a secret
permutation drawn from the run's key (bytes >= 0x80 stay put, so the text stays valid UTF-8 and is exactly as hard
to learn): train.txt and val.txt to the run's inputs, test.txt to the run's hidden folder, which only the scorer
reads. Weights trained before the run (shipped in a change, cached) fit another labelling and miss the target.
The permutation is the one lm-speedrun version 2 drew from the same key (its cipher.ts; version 3 draws fresh text instead).
"""
import hashlib
import os
import re


def ascii_permutation(key):
    if not re.fullmatch(r'[0-9a-f]{32,}', key):
        raise SystemExit('SUCCESSOR_RUN_KEY must be at least 16 bytes of hex')
    permutation = list(range(128))
    pool, used, block = b'', 0, 0
    for index in range(127, 0, -1):
        while True:  # rejection sampling keeps the draw uniform
            if used == len(pool):
                pool, used, block = hashlib.sha256(f'successor-cipher:{key}:{block}'.encode()).digest(), 0, block + 1
            draw = pool[used] & 0x7f
            used += 1
            if draw <= index:
                break
        permutation[index], permutation[draw] = permutation[draw], permutation[index]
    return permutation


def main():
    table = bytes(ascii_permutation(os.environ['SUCCESSOR_RUN_KEY']) + list(range(128, 256)))
    for source, destination, name in [('SUCCESSOR_INPUTS', 'SUCCESSOR_RUN_INPUTS', 'train.txt'),
                                      ('SUCCESSOR_INPUTS', 'SUCCESSOR_RUN_INPUTS', 'val.txt'),
                                      ('SUCCESSOR_HIDDEN', 'SUCCESSOR_RUN_HIDDEN', 'test.txt')]:
        with open(os.path.join(os.environ[source], name), 'rb') as file:
            data = file.read()
        with open(os.path.join(os.environ[destination], name), 'wb') as file:
            file.write(data.translate(table))


if __name__ == '__main__':
    main()
