//! A static, packed R-tree over bounding boxes (Sort-Tile-Recursive bulk loading, flat arrays):
//! built once, for the QPV index's best-first nearest-QPV search. (Containment goes through
//! the candidate grid in `qpv`, which profiling showed to be faster than walking the tree.)

const FANOUT: usize = 16;

#[derive(Debug, Clone, Copy)]
struct Node {
    /// min x, min y, max x, max y
    bbox: [f64; 4],
    /// First child: an item index at the leaf level, else a node index in the level below.
    first: u32,
    count: u32,
}

#[derive(Debug, Default)]
pub struct PackedRTree {
    /// `levels[0]` are the leaves (their children are items); the last level is the root.
    levels: Vec<Vec<Node>>,
    /// Items' boxes and payloads, in the packed order.
    items: Vec<([f64; 4], usize)>,
}

fn union(a: [f64; 4], b: [f64; 4]) -> [f64; 4] {
    [
        a[0].min(b[0]),
        a[1].min(b[1]),
        a[2].max(b[2]),
        a[3].max(b[3]),
    ]
}

/// Orders boxes in Sort-Tile-Recursive order: vertical slices by x, then y within a slice.
fn str_order<T>(entries: &mut [T], bbox: impl Fn(&T) -> [f64; 4]) {
    let centre = |b: [f64; 4], axis: usize| b[axis] + b[axis + 2];
    entries.sort_by(|a, b| centre(bbox(a), 0).total_cmp(&centre(bbox(b), 0)));
    let groups = entries.len().div_ceil(FANOUT);
    let slices = (groups as f64).sqrt().ceil().max(1.0) as usize;
    let per_slice = (slices * FANOUT).max(1);
    for slice in entries.chunks_mut(per_slice) {
        slice.sort_by(|a, b| centre(bbox(a), 1).total_cmp(&centre(bbox(b), 1)));
    }
}

fn group(bboxes: &[[f64; 4]]) -> Vec<Node> {
    bboxes
        .chunks(FANOUT)
        .enumerate()
        .map(|(i, chunk)| Node {
            bbox: chunk.iter().copied().reduce(union).unwrap_or([0.0; 4]),
            first: (i * FANOUT) as u32,
            count: chunk.len() as u32,
        })
        .collect()
}

impl PackedRTree {
    pub fn build(mut items: Vec<([f64; 4], usize)>) -> PackedRTree {
        if items.is_empty() {
            return PackedRTree::default();
        }
        str_order(&mut items, |i| i.0);
        let mut levels = vec![group(&items.iter().map(|i| i.0).collect::<Vec<_>>())];
        while levels.last().is_some_and(|l| l.len() > 1) {
            let below = levels.last_mut().map(std::mem::take).unwrap_or_default();
            // Reorder the level below so its parents are compact, then group it.
            let mut below = below;
            str_order(&mut below, |n| n.bbox);
            let parents = group(&below.iter().map(|n| n.bbox).collect::<Vec<_>>());
            if let Some(slot) = levels.last_mut() {
                *slot = below;
            }
            levels.push(parents);
        }
        PackedRTree { levels, items }
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Best-first nearest search. `lower_bound` turns a squared distance to a box (in the
    /// boxes' units) into a lower bound of the true distance; `exact` gives an item's true
    /// distance. Returns the nearest item and its distance.
    pub fn nearest(
        &self,
        x: f64,
        y: f64,
        lower_bound: impl Fn(f64) -> f64,
        mut exact: impl FnMut(usize) -> f64,
    ) -> Option<(usize, f64)> {
        use std::cmp::Reverse;
        use std::collections::BinaryHeap;
        let top = self.levels.len().checked_sub(1)?;
        let box_d2 = |b: &[f64; 4]| {
            let dx = (b[0] - x).max(0.0).max(x - b[2]);
            let dy = (b[1] - y).max(0.0).max(y - b[3]);
            dx * dx + dy * dy
        };
        // (bound, level + 1 or 0 for an item, index); f64 ordered through its bits (all ≥ 0).
        let mut heap: BinaryHeap<Reverse<(u64, usize, usize)>> = BinaryHeap::new();
        for (i, node) in self.levels[top].iter().enumerate() {
            heap.push(Reverse((
                lower_bound(box_d2(&node.bbox)).to_bits(),
                top + 1,
                i,
            )));
        }
        let mut best: Option<(usize, f64)> = None;
        while let Some(Reverse((bound, kind, index))) = heap.pop() {
            let bound = f64::from_bits(bound);
            if best.is_some_and(|(_, d)| bound > d) {
                break;
            }
            if kind == 0 {
                let payload = self.items[index].1;
                let d = exact(payload);
                if best.is_none_or(|(_, b)| d < b) {
                    best = Some((payload, d));
                }
                continue;
            }
            let level = kind - 1;
            let node = &self.levels[level][index];
            for child in node.first as usize..(node.first + node.count) as usize {
                let (b, kind) = if level == 0 {
                    (self.items[child].0, 0)
                } else {
                    (self.levels[level - 1][child].bbox, level)
                };
                heap.push(Reverse((lower_bound(box_d2(&b)).to_bits(), kind, child)));
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic::Rng;

    #[test]
    fn the_nearest_box_is_the_one_a_linear_scan_finds() {
        let mut rng = Rng::new(3);
        let boxes: Vec<([f64; 4], usize)> = (0..2000)
            .map(|i| {
                let (x, y) = (rng.range(0.0, 100.0), rng.range(0.0, 100.0));
                ([x, y, x + rng.range(0.0, 5.0), y + rng.range(0.0, 5.0)], i)
            })
            .collect();
        let tree = PackedRTree::build(boxes.clone());
        // The nearest box by a linear scan is the one the best-first search finds.
        for _ in 0..200 {
            let (x, y) = (rng.range(-20.0, 120.0), rng.range(-20.0, 120.0));
            let d = |b: &[f64; 4]| {
                ((b[0] - x).max(0.0).max(x - b[2]).powi(2)
                    + (b[1] - y).max(0.0).max(y - b[3]).powi(2))
                .sqrt()
            };
            let expected = boxes
                .iter()
                .map(|(b, _)| d(b))
                .fold(f64::INFINITY, f64::min);
            let (_, found) = tree
                .nearest(x, y, f64::sqrt, |p| d(&boxes[p].0))
                .expect("non-empty");
            assert_eq!(found, expected);
        }
    }
}
