//! Statistical secrecy of a two-way table published with its margins (docs/domain.md §5): the
//! rows × columns cells, each row's total, each column's total and the grand total.
//!
//! 1. **Primary** suppression: every cell — margins included — counting 1 to `threshold − 1`
//!    people is masked.
//! 2. **Secondary** suppression: a line (row or column, margin included) with exactly one
//!    masked cell would give it away by subtraction; its smallest other non-zero cell is masked
//!    too, until no line has a lone masked cell.
//! 3. **Exact audit.** « Every line has 0 or at least 2 masked cells » is not enough: two
//!    blocks of masked cells joined by one masked cell still let that cell be recomputed. The
//!    audit solves the linear system the published figures impose on the masked ones: each row
//!    of the table extended with its margins (the margin counted negatively) sums to zero, and
//!    so does each column. A masked cell is **determined** when its unit vector lies in the row
//!    space of that system restricted to the masked cells: when, in the system's reduced row
//!    echelon form, its column is a pivot whose row has nothing in the free columns. One
//!    Gauss–Jordan elimination in integers (each row divided by the greatest common divisor
//!    of its entries, so every step is exact) answers for all the masked cells at once; the
//!    system is the incidence matrix of a bipartite graph, totally unimodular, so its entries
//!    stay in {−1, 0, 1}. For each determined cell, the audit masks the
//!    cheapest published cell that closes a cycle through it (in graph terms the determined cell
//!    is a bridge of the masked cells; a cell joining the two sides makes it part of a cycle),
//!    and audits again, until no masked cell is determined.

use std::collections::VecDeque;

/// A published table: `None` is a masked cell (shown « s »).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub cells: Vec<Vec<Option<i64>>>,
    pub row_totals: Vec<Option<i64>>,
    pub column_totals: Vec<Option<i64>>,
    pub total: Option<i64>,
}

impl Published {
    /// How many cells (margins included) are masked.
    pub fn masked(&self) -> usize {
        self.cells.iter().flatten().filter(|c| c.is_none()).count()
            + self.row_totals.iter().filter(|c| c.is_none()).count()
            + self.column_totals.iter().filter(|c| c.is_none()).count()
            + usize::from(self.total.is_none())
    }
}

/// The table extended with its margins: (rows + 1) × (columns + 1) values, the last row the
/// column totals, the last column the row totals, the corner the grand total.
struct Extended {
    rows: usize,
    columns: usize,
    values: Vec<i64>,
    masked: Vec<bool>,
    /// Cells not published at all (row totals that mean nothing): unknown to the reader, but
    /// not secrets to protect.
    unpublished: Vec<bool>,
}

impl Extended {
    fn new(cells: &[Vec<i64>]) -> Extended {
        let rows = cells.len() + 1;
        let columns = cells.first().map_or(0, Vec::len) + 1;
        let mut values = vec![0; rows * columns];
        for (i, row) in cells.iter().enumerate() {
            for (j, v) in row.iter().enumerate().take(columns - 1) {
                values[i * columns + j] = *v;
                values[i * columns + columns - 1] += *v;
                values[(rows - 1) * columns + j] += *v;
                values[(rows - 1) * columns + columns - 1] += *v;
            }
        }
        Extended {
            rows,
            columns,
            masked: vec![false; rows * columns],
            unpublished: vec![false; rows * columns],
            values,
        }
    }

    fn at(&self, i: usize, j: usize) -> usize {
        i * self.columns + j
    }

    /// The cells of each line (rows, then columns), as indexes.
    fn lines(&self) -> Vec<Vec<usize>> {
        let mut lines: Vec<Vec<usize>> = (0..self.rows)
            .map(|i| (0..self.columns).map(|j| self.at(i, j)).collect())
            .collect();
        lines.extend((0..self.columns).map(|j| (0..self.rows).map(|i| self.at(i, j)).collect()));
        lines
    }

    fn publish(&self) -> Published {
        let shown = |k: usize| (!self.masked[k]).then_some(self.values[k]);
        let (r, c) = (self.rows - 1, self.columns - 1);
        Published {
            cells: (0..r)
                .map(|i| (0..c).map(|j| shown(self.at(i, j))).collect())
                .collect(),
            row_totals: (0..r).map(|i| shown(self.at(i, c))).collect(),
            column_totals: (0..c).map(|j| shown(self.at(r, j))).collect(),
            total: shown(self.at(r, c)),
        }
    }
}

/// Masks a table for publication with `threshold` (5 in Passerelle: cells of 1 to 4 masked).
/// `cells` is rows × columns; the margins are computed.
pub fn protect(cells: &[Vec<i64>], threshold: i64) -> Published {
    protect_with(cells, threshold, Margins::All, &[])
}

/// What is published beside the cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Margins {
    /// Row totals, column totals and the grand total.
    All,
    /// Column totals only: the rows' totals mean nothing (a person counts in several columns)
    /// and are not published — unknown to the reader, never protected for themselves.
    Columns,
    /// Row totals only: the columns' totals mean nothing (a person counts in several rows),
    /// the table is protected as its transpose with [`Margins::Columns`].
    Rows,
    /// No margin at all: the rows overlap (a person counts in several rows) so no total means
    /// anything, and each cell stands alone — only the primary pass applies.
    None,
}

/// The table with rows and columns exchanged.
fn transpose<T: Clone>(cells: &[Vec<T>]) -> Vec<Vec<T>> {
    let columns = cells.first().map_or(0, Vec::len);
    (0..columns)
        .map(|j| cells.iter().map(|row| row[j].clone()).collect())
        .collect()
}

/// [`protect`] for the given margins, with the column totals ticked in `masked_columns` masked
/// from the start (one more tick, past the columns, masks the grand total; with
/// [`Margins::Rows`] the ticks are the row totals'): tables published together that share
/// their totals must hide the same ones, or one table would give away what another protects
/// (the caller repeats until they agree).
pub fn protect_with(
    cells: &[Vec<i64>],
    threshold: i64,
    margins: Margins,
    masked_columns: &[bool],
) -> Published {
    if margins == Margins::Rows {
        let p = protect_with(
            &transpose(cells),
            threshold,
            Margins::Columns,
            masked_columns,
        );
        return Published {
            cells: if cells.is_empty() {
                Vec::new()
            } else {
                transpose(&p.cells)
            },
            row_totals: p.column_totals,
            column_totals: p.row_totals,
            total: p.total,
        };
    }
    let mut t = Extended::new(cells);
    // Primary.
    for k in 0..t.values.len() {
        let v = t.values[k];
        t.masked[k] = v > 0 && v < threshold;
    }
    if margins != Margins::All {
        for i in 0..t.rows {
            let k = t.at(i, t.columns - 1);
            t.masked[k] = true;
            t.unpublished[k] = true;
        }
    }
    if margins == Margins::None {
        for j in 0..t.columns {
            let k = t.at(t.rows - 1, j);
            t.masked[k] = true;
            t.unpublished[k] = true;
        }
    }
    for (j, forced) in masked_columns.iter().enumerate().take(t.columns) {
        if *forced {
            let k = t.at(t.rows - 1, j);
            t.masked[k] = true;
        }
    }
    // Secondary: no line with a lone masked cell.
    let lines = t.lines();
    loop {
        let mut changed = false;
        for line in &lines {
            // A lone masked cell that is a secret (an unpublished one protects nothing).
            let masked: Vec<usize> = line.iter().copied().filter(|k| t.masked[*k]).collect();
            if masked.len() != 1 || t.unpublished[masked[0]] {
                continue;
            }
            let cheapest = line
                .iter()
                .copied()
                .filter(|k| !t.masked[*k])
                .min_by_key(|k| (t.values[*k] == 0, t.values[*k]));
            if let Some(k) = cheapest {
                t.masked[k] = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    // Exact audit, then one more suppression per determined cell, until none is.
    while let Some(k) = determined(&t).first().copied() {
        match closing_cell(&t, k) {
            Some(extra) => t.masked[extra] = true,
            // Nothing left to mask that would protect it: mask the whole table rather than
            // publish a recomputable cell.
            None => {
                t.masked.iter_mut().for_each(|m| *m = true);
                break;
            }
        }
    }
    t.publish()
}

/// The masked cells (secrets: the unpublished ones are not) whose value the published figures
/// determine, by exact elimination.
fn determined(t: &Extended) -> Vec<usize> {
    let unknowns: Vec<usize> = (0..t.values.len()).filter(|k| t.masked[*k]).collect();
    if unknowns.is_empty() {
        return Vec::new();
    }
    // One equation per line of the extended table, over the masked cells only.
    let system: Vec<Vec<i64>> = t
        .lines()
        .iter()
        .map(|line| {
            unknowns
                .iter()
                .map(|u| i64::from(line.contains(u)))
                .collect()
        })
        .collect();
    let (_, solved) = eliminate(system);
    unknowns
        .iter()
        .enumerate()
        .filter(|(n, k)| !t.unpublished[**k] && solved[*n])
        .map(|(_, k)| *k)
        .collect()
}

/// The rank of a system and which of its unknowns it determines, from one reduced row
/// echelon form (Gauss–Jordan in integers, each row kept divided by its entries' greatest
/// common divisor, so that every step is exact): an unknown is determined exactly when its
/// column is a pivot whose row has nothing in the free columns — its unit vector is then a
/// row of the reduced system, so it lies in the row space. One elimination for all the
/// unknowns, instead of one rank per unknown.
fn eliminate(mut m: Vec<Vec<i64>>) -> (usize, Vec<bool>) {
    fn gcd(a: i64, b: i64) -> i64 {
        if b == 0 { a.abs() } else { gcd(b, a % b) }
    }
    let rows = m.len();
    let columns = m.first().map_or(0, Vec::len);
    let mut pivots: Vec<(usize, usize)> = Vec::new();
    let mut rank = 0;
    for col in 0..columns {
        if rank == rows {
            break;
        }
        let Some(pivot) = (rank..rows).find(|r| m[*r][col] != 0) else {
            continue;
        };
        m.swap(rank, pivot);
        let pivot_row = m[rank].clone();
        let p = pivot_row[col];
        for (r, row) in m.iter_mut().enumerate() {
            if r == rank || row[col] == 0 {
                continue;
            }
            let f = row[col];
            for (v, w) in row.iter_mut().zip(&pivot_row) {
                *v = p * *v - f * w;
            }
            let g = row.iter().fold(0, |g, v| gcd(g, *v));
            if g > 1 {
                row.iter_mut().for_each(|v| *v /= g);
            }
        }
        pivots.push((rank, col));
        rank += 1;
    }
    let mut determined = vec![false; columns];
    let mut free = vec![true; columns];
    for (_, col) in &pivots {
        free[*col] = false;
    }
    for (r, col) in pivots {
        determined[col] = (0..columns).filter(|c| free[*c]).all(|c| m[r][c] == 0);
    }
    (rank, determined)
}

/// The rank of an integer matrix, by the same exact elimination.
pub fn rank(m: Vec<Vec<i64>>) -> usize {
    eliminate(m).0
}

/// The cheapest published cell whose masking puts the determined cell `k` on a cycle of
/// masked cells: one joining the row side and the column side that `k` alone connects.
fn closing_cell(t: &Extended, k: usize) -> Option<usize> {
    let (ki, kj) = (k / t.columns, k % t.columns);
    // Nodes: rows 0..rows, columns rows..rows + columns; masked cells other than `k` are edges.
    let mut side = vec![false; t.rows + t.columns];
    let mut queue = VecDeque::from([ki]);
    side[ki] = true;
    while let Some(n) = queue.pop_front() {
        let neighbours: Vec<usize> = if n < t.rows {
            (0..t.columns)
                .filter(|j| t.masked[t.at(n, *j)] && t.at(n, *j) != k)
                .map(|j| t.rows + j)
                .collect()
        } else {
            let j = n - t.rows;
            (0..t.rows)
                .filter(|i| t.masked[t.at(*i, j)] && t.at(*i, j) != k)
                .collect()
        };
        for m in neighbours {
            if !side[m] {
                side[m] = true;
                queue.push_back(m);
            }
        }
    }
    if side[t.rows + kj] {
        return None;
    }
    // A published cell between a node on the row's side and one on the other side closes a
    // cycle through `k`.
    (0..t.rows)
        .flat_map(|i| (0..t.columns).map(move |j| (i, j)))
        .filter(|(i, j)| !t.masked[t.at(*i, *j)] && side[*i] != side[t.rows + *j])
        .map(|(i, j)| t.at(i, j))
        .min_by_key(|c| (t.values[*c] == 0, t.values[*c]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The masked cells of a published table, in extended coordinates.
    fn masked_cells(p: &Published) -> Vec<(usize, usize)> {
        let r = p.cells.len();
        let c = p.column_totals.len();
        let mut out = Vec::new();
        for i in 0..=r {
            for j in 0..=c {
                let hidden = match (i < r, j < c) {
                    (true, true) => p.cells[i][j].is_none(),
                    (true, false) => p.row_totals[i].is_none(),
                    (false, true) => p.column_totals[j].is_none(),
                    (false, false) => p.total.is_none(),
                };
                if hidden {
                    out.push((i, j));
                }
            }
        }
        out
    }

    /// An independent oracle: a masked cell is recomputable exactly when it is a bridge of the
    /// bipartite graph of masked cells (rows and columns of the extended table as nodes).
    fn bridges(rows: usize, columns: usize, masked: &[(usize, usize)]) -> Vec<(usize, usize)> {
        masked
            .iter()
            .copied()
            .filter(|&(bi, bj)| {
                let mut seen = vec![false; rows + columns];
                let mut stack = vec![bi];
                seen[bi] = true;
                while let Some(n) = stack.pop() {
                    for &(i, j) in masked {
                        if (i, j) == (bi, bj) {
                            continue;
                        }
                        let (a, b) = (i, rows + j);
                        let other = if n == a {
                            b
                        } else if n == b {
                            a
                        } else {
                            continue;
                        };
                        if !seen[other] {
                            seen[other] = true;
                            stack.push(other);
                        }
                    }
                }
                !seen[rows + bj]
            })
            .collect()
    }

    const CLASSIC: [[i64; 4]; 4] = [
        [1, 2, 10, 10],
        [3, 4, 1, 10],
        [10, 10, 2, 3],
        [10, 10, 4, 1],
    ];

    fn classic() -> Vec<Vec<i64>> {
        CLASSIC.iter().map(|r| r.to_vec()).collect()
    }

    #[test]
    fn the_classic_counter_example_is_caught_by_the_audit() {
        // Two fully masked 2 × 2 blocks joined by one masked cell: every row and column has 0
        // or at least 2 masked cells, yet the joining cell is row 1's total minus what is
        // known, minus (column 0 + column 1 − row 0's known part): recomputable.
        let mut t = Extended::new(&classic());
        for (i, j) in [
            (0, 0),
            (0, 1),
            (1, 0),
            (1, 1),
            (1, 2),
            (2, 2),
            (2, 3),
            (3, 2),
            (3, 3),
        ] {
            let k = t.at(i, j);
            t.masked[k] = true;
        }
        let lines_ok = t
            .lines()
            .iter()
            .all(|l| l.iter().filter(|k| t.masked[**k]).count() != 1);
        assert!(lines_ok, "no line has a lone masked cell");
        assert_eq!(
            determined(&t),
            vec![t.at(1, 2)],
            "the joining cell is recomputable"
        );
        // Its value is indeed forced: x12 = r1 − x10 − x11 − x13, and x10 + x11 =
        // (c0 − x20 − x30) + (c1 − x21 − x31) − (r0 − x02 − x03).
        let (r0, r1, c0, c1) = (23, 18, 24, 26);
        let x10_plus_x11 = (c0 - 10 - 10) + (c1 - 10 - 10) - (r0 - 10 - 10);
        assert_eq!(r1 - x10_plus_x11 - 10, 1);
        // The full protection never publishes it so.
        let p = protect(&classic(), 5);
        let masked = masked_cells(&p);
        assert!(bridges(5, 5, &masked).is_empty(), "{masked:?}");
    }

    #[test]
    fn primary_and_secondary_passes_on_a_small_table() {
        let p = protect(&[vec![20, 3, 17], vec![12, 15, 9]], 5);
        // 3 is masked; its row and column would give it away: partners are masked too.
        assert_eq!(p.cells[0][1], None);
        assert!(p.masked() >= 4, "{p:?}");
        assert!(bridges(3, 4, &masked_cells(&p)).is_empty());
        // Nothing small: nothing masked, margins computed.
        let p = protect(&[vec![20, 30], vec![12, 15]], 5);
        assert_eq!(p.masked(), 0);
        assert_eq!(p.total, Some(77));
        assert_eq!(p.row_totals, vec![Some(50), Some(27)]);
        assert_eq!(p.column_totals, vec![Some(32), Some(45)]);
        // Zero is no person: published.
        let p = protect(&[vec![0, 30], vec![12, 15]], 5);
        assert_eq!(p.cells[0][0], Some(0));
    }

    #[test]
    fn bareiss_rank_is_exact_on_small_matrices() {
        assert_eq!(rank(vec![vec![1, 1, 0], vec![0, 1, 1], vec![1, 0, -1]]), 2);
        assert_eq!(rank(vec![vec![1, 0], vec![0, 1], vec![1, 1]]), 2);
        assert_eq!(rank(vec![vec![0, 0], vec![0, 0]]), 0);
        assert_eq!(rank(vec![vec![2, 4], vec![1, 2]]), 1);
        assert_eq!(rank(vec![vec![1, 2, 3], vec![4, 5, 6], vec![7, 8, 10]]), 3);
    }

    #[test]
    fn without_row_totals_a_secret_needs_a_partner_in_its_column_only() {
        // Women and men through the funnel: the rows' totals mean nothing and are not shown.
        let women = vec![8, 8, 8, 6, 5, 2, 2, 0];
        let men = vec![6, 5, 5, 0, 0, 0, 0, 0];
        let p = protect_with(&[women, men], 5, Margins::Columns, &[]);
        assert_eq!(
            p.cells[0],
            vec![
                Some(8),
                Some(8),
                Some(8),
                Some(6),
                Some(5),
                None,
                None,
                Some(0)
            ]
        );
        assert_eq!(
            p.cells[1],
            vec![
                Some(6),
                Some(5),
                Some(5),
                Some(0),
                Some(0),
                Some(0),
                Some(0),
                Some(0)
            ]
        );
        assert_eq!(
            p.column_totals,
            vec![
                Some(14),
                Some(13),
                Some(13),
                Some(6),
                Some(5),
                None,
                None,
                Some(0)
            ],
            "each small cell's partner is its column's total"
        );
        assert!(
            p.row_totals.iter().all(Option::is_none) && p.total.is_none(),
            "not published"
        );
        // A column total forced hidden (another table hides it) is hidden here too, and its
        // column then needs a second hidden cell.
        let p = protect_with(
            &[vec![9, 7], vec![6, 30]],
            5,
            Margins::Columns,
            &[true, false],
        );
        assert_eq!(p.column_totals, vec![None, Some(37)]);
        assert_eq!(
            p.cells.iter().filter(|r| r[0].is_none()).count(),
            1,
            "{p:?}"
        );
    }

    #[test]
    fn row_margins_and_no_margins() {
        // Months after the exit × situations: each month's checks are counted once (its row
        // total is published), the columns' totals mean nothing (a person counts each month).
        let cells = vec![vec![12, 3, 9], vec![8, 0, 6]];
        let p = protect_with(&cells, 5, Margins::Rows, &[]);
        assert_eq!(p.row_totals, vec![Some(24), Some(14)]);
        assert!(p.column_totals.iter().all(Option::is_none) && p.total.is_none());
        assert_eq!(p.cells[0][1], None, "the small cell");
        assert_eq!(
            p.cells[0].iter().filter(|c| c.is_none()).count(),
            2,
            "and a partner in its row, whose total is shown: {p:?}"
        );
        assert_eq!(p.cells[1], vec![Some(8), Some(0), Some(6)], "{p:?}");
        // No margins: each cell stands alone, only the small ones are masked.
        let p = protect_with(&cells, 5, Margins::None, &[]);
        assert_eq!(
            p.cells,
            vec![
                vec![Some(12), None, Some(9)],
                vec![Some(8), Some(0), Some(6)]
            ]
        );
        // The grand total forced hidden (a table shown beside it hides it).
        let p = protect_with(
            &[vec![20, 30], vec![40, 50]],
            5,
            Margins::All,
            &[false, false, true],
        );
        assert_eq!(p.total, None);
        assert!(
            p.masked() >= 2,
            "a lone hidden total is given away by the others: {p:?}"
        );
    }

    proptest! {
        #[test]
        fn without_row_totals_no_secret_can_be_recomputed(
            rows in 1usize..6,
            columns in 1usize..6,
            seed in proptest::collection::vec(0i64..12, 36),
        ) {
            let cells: Vec<Vec<i64>> = (0..rows)
                .map(|i| (0..columns).map(|j| seed[i * 6 + j]).collect())
                .collect();
            let p = protect_with(&cells, 5, Margins::Columns, &[]);
            let masked = masked_cells(&p);
            let secrets: Vec<(usize, usize)> = bridges(rows + 1, columns + 1, &masked)
                .into_iter()
                .filter(|(_, j)| *j < columns)
                .collect();
            prop_assert!(secrets.is_empty(), "{cells:?} → {masked:?}");
        }

        #[test]
        fn no_published_table_lets_a_masked_cell_be_recomputed(
            rows in 1usize..6,
            columns in 1usize..6,
            seed in proptest::collection::vec(0i64..12, 36),
        ) {
            let cells: Vec<Vec<i64>> = (0..rows)
                .map(|i| (0..columns).map(|j| seed[i * 6 + j]).collect())
                .collect();
            let p = protect(&cells, 5);
            let masked = masked_cells(&p);
            // The independent oracle agrees that nothing masked is determined…
            prop_assert!(bridges(rows + 1, columns + 1, &masked).is_empty(), "{cells:?} → {masked:?}");
            // …every small cell is masked, and what is shown is the truth.
            let t = Extended::new(&cells);
            for i in 0..=rows {
                for j in 0..=columns {
                    let v = t.values[t.at(i, j)];
                    if v > 0 && v < 5 {
                        prop_assert!(masked.contains(&(i, j)), "{v} at ({i}, {j}) shown");
                    }
                }
            }
            let shown = p.publish_check(&t);
            prop_assert!(shown, "a published value differs from the table");
        }

        #[test]
        fn the_elimination_and_the_graph_agree_on_what_is_determined(
            rows in 1usize..5,
            columns in 1usize..5,
            pattern in proptest::collection::vec(any::<bool>(), 25),
        ) {
            let mut t = Extended::new(&vec![vec![7; columns]; rows]);
            let mut masked = Vec::new();
            for i in 0..=rows {
                for j in 0..=columns {
                    if pattern[i * 5 + j] {
                        let k = t.at(i, j);
                        t.masked[k] = true;
                        masked.push((i, j));
                    }
                }
            }
            let mut by_rank: Vec<(usize, usize)> = determined(&t)
                .into_iter()
                .map(|k| (k / t.columns, k % t.columns))
                .collect();
            by_rank.sort();
            let mut by_graph = bridges(rows + 1, columns + 1, &masked);
            by_graph.sort();
            prop_assert_eq!(by_rank, by_graph);
        }
    }

    impl Published {
        /// Every published value equals the table's.
        fn publish_check(&self, t: &Extended) -> bool {
            let (r, c) = (t.rows - 1, t.columns - 1);
            let ok = |shown: Option<i64>, i: usize, j: usize| {
                shown.is_none_or(|v| v == t.values[t.at(i, j)])
            };
            (0..r).all(|i| (0..c).all(|j| ok(self.cells[i][j], i, j)))
                && (0..r).all(|i| ok(self.row_totals[i], i, c))
                && (0..c).all(|j| ok(self.column_totals[j], r, j))
                && ok(self.total, r, c)
        }
    }
}
