"""Trusted, run after every experiment: scores what the run left against the answers it never saw, and prints one
JSON verdict as its last line: {"passed": bool, "score": number, "reason": str, "metrics": {...}}.

The run must leave artifacts/predictions.csv with columns id and prediction, one row per row of inputs/test.csv.
The score here is accuracy or error rate (params.score: accuracy or errorRate); replace it with your metric. The
number comes from this script, never from what the run prints or writes about itself: a run can print anything.
Everything the run left is untrusted input: read it defensively, and fail the run with a reason when it is wrong.
"""
import csv
import json
import os
import sys


def verdict(**fields):
    print(json.dumps(fields))
    sys.exit(0)


params = json.loads(os.environ.get('SUCCESSOR_PARAMS', '{}'))
label = params.get('label', 'label')
with open(os.path.join(os.environ['SUCCESSOR_HIDDEN'], 'answers.csv'), newline='') as file:
    answers = {row['id']: row[label] for row in csv.DictReader(file)}

predictions_path = os.path.join(os.environ.get('SUCCESSOR_ARTIFACTS', ''), 'predictions.csv')
if not os.path.isfile(predictions_path):
    verdict(passed=False, reason='no artifacts/predictions.csv: the run must leave its predictions for inputs/test.csv there')
if os.path.getsize(predictions_path) > 64 * 1024 * 1024:
    verdict(passed=False, reason='artifacts/predictions.csv is larger than 64 MiB')
predictions = {}
with open(predictions_path, newline='', errors='replace') as file:
    for row in csv.DictReader(file):
        predictions[row.get('id')] = row.get('prediction')
missing = [key for key in answers if key not in predictions]
if missing:
    verdict(passed=False, reason=f'{len(missing)} of {len(answers)} test rows have no prediction (first: id {missing[0]})')

accuracy = sum(predictions[key] == answer for key, answer in answers.items()) / len(answers)
score = accuracy if params.get('score', 'accuracy') == 'accuracy' else 1 - accuracy
verdict(passed=True, score=score, metrics={'accuracy': accuracy, 'testRows': len(answers)})
