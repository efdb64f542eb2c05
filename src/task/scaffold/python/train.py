"""An example run: a k-nearest-neighbours classifier. Reads inputs/train.csv and inputs/test.csv (the folder is
$SUCCESSOR_INPUTS), writes artifacts/predictions.csv ($SUCCESSOR_ARTIFACTS) with one prediction per test row.
config.json holds the settings the researcher may change; replace this file with your own training code.
"""
import csv
import json
import math
import os
from collections import Counter

config = json.load(open('config.json'))
inputs = os.environ.get('SUCCESSOR_INPUTS', 'inputs')
artifacts = os.environ.get('SUCCESSOR_ARTIFACTS', 'artifacts')
label = config.get('label', 'label')


def read(name):
    with open(os.path.join(inputs, name), newline='') as file:
        return list(csv.DictReader(file))


train, test = read('train.csv'), read('test.csv')
features = [column for column in train[0] if column != label]
point = lambda row: [float(row[feature]) for feature in features]
examples = [(point(row), row[label]) for row in train]
os.makedirs(artifacts, exist_ok=True)
with open(os.path.join(artifacts, 'predictions.csv'), 'w', newline='') as file:
    writer = csv.writer(file)
    writer.writerow(['id', 'prediction'])
    for row in test:
        query = point(row)
        nearest = sorted(examples, key=lambda example: math.dist(example[0], query))[:config['neighbours']]
        writer.writerow([row['id'], Counter(answer for _, answer in nearest).most_common(1)[0][0]])
print(f"test_rows: {len(test)}")
