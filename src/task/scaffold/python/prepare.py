"""Trusted, run once per task version: splits the data into what the run sees and what only the scorer sees.

    inputs/train.csv   labelled rows for training          (the run reads it, read-only)
    inputs/test.csv    the held-out rows without the label  (the run predicts these)
    hidden/answers.csv the held-out labels                  (never mounted into the run's sandbox)

With params.data (a CSV file in a folder of environment.harnessMounts, which only harness scripts see) and
params.label (its label column), that file is split; without, an example data set is generated. Replace this with
your own split; keep the answers out of inputs/. Protocol: docs/tasks.md.
"""
import csv
import json
import math
import os
import random

params = json.loads(os.environ.get('SUCCESSOR_PARAMS', '{}'))
inputs, hidden = os.environ['SUCCESSOR_INPUTS'], os.environ['SUCCESSOR_HIDDEN']
rng = random.Random(params.get('seed', 1))
label = params.get('label', 'label')

if params.get('data'):
    with open(params['data'], newline='') as file:
        rows = list(csv.DictReader(file))
    if not rows or label not in rows[0]:
        raise SystemExit(f"error: {params['data']} has no rows, or no column '{label}'")
else:  # an example: is a point inside the circle of radius 0.7? 10% of the labels are flipped
    rows = []
    for _ in range(500):
        x, y = rng.uniform(-1, 1), rng.uniform(-1, 1)
        inside = (math.hypot(x, y) < 0.7) != (rng.random() < 0.1)
        rows.append({'x': f'{x:.4f}', 'y': f'{y:.4f}', label: 'inside' if inside else 'outside'})

rng.shuffle(rows)
held_out = max(1, int(len(rows) * float(params.get('testFraction', 0.2))))
test, train = rows[:held_out], rows[held_out:]
columns = list(rows[0])
features = [column for column in columns if column != label]


def write(path, records, fields):
    with open(path, 'w', newline='') as file:
        writer = csv.DictWriter(file, fieldnames=fields, extrasaction='ignore')
        writer.writeheader()
        writer.writerows(records)


write(os.path.join(inputs, 'train.csv'), train, columns)
write(os.path.join(inputs, 'test.csv'), [{'id': index, **row} for index, row in enumerate(test)], ['id'] + features)
write(os.path.join(hidden, 'answers.csv'), [{'id': index, label: row[label]} for index, row in enumerate(test)], ['id', label])
