// The paper's experiment: k-nearest-neighbour classification of union membership in the 1985 CPS sample.
// One call = one random train/validation split (70/30, seeded) -> validation accuracy.
const FIELDS = ['education', 'experience', 'age', 'wage', 'south', 'married', 'female'];
const vectorOf = (row) => FIELDS.map((field) => (field === 'female' ? (row.gender === 'female' ? 1 : 0) : Number(row[field])));

function shuffled(items, seed) {
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [copy[index], copy[other]] = [copy[other], copy[index]];
  }
  return copy;
}

export function validationAccuracy(rows, { k, distance, standardise, seed }) {
  const order = shuffled(rows, seed);
  const cut = Math.floor(order.length * 0.7);
  let train = order.slice(0, cut).map(vectorOf);
  let validation = order.slice(cut).map(vectorOf);
  if (standardise) {
    const means = FIELDS.map((_, f) => train.reduce((s, x) => s + x[f], 0) / train.length);
    const scales = FIELDS.map((_, f) => Math.sqrt(train.reduce((s, x) => s + (x[f] - means[f]) ** 2, 0) / train.length) || 1);
    const apply = (x) => x.map((value, f) => (value - means[f]) / scales[f]);
    train = train.map(apply);
    validation = validation.map(apply);
  }
  const trainLabels = order.slice(0, cut).map((row) => row.union);
  const validationLabels = order.slice(cut).map((row) => row.union);
  const measure = distance === 'manhattan'
    ? (a, b) => a.reduce((s, value, f) => s + Math.abs(value - b[f]), 0)
    : (a, b) => Math.sqrt(a.reduce((s, value, f) => s + (value - b[f]) ** 2, 0));
  let correct = 0;
  validation.forEach((x, index) => {
    const nearest = train.map((other, position) => [measure(x, other), position]).sort((a, b) => a[0] - b[0] || a[1] - b[1]).slice(0, k);
    const votes = nearest.reduce((s, [, position]) => s + trainLabels[position], 0);
    if ((votes * 2 > k ? 1 : 0) === validationLabels[index]) correct += 1;
  });
  return correct / validation.length;
}
