//! The kernels of a clique's sweep: what is done to a block of entries through a port
//! (multiply by, load from, or add into the array the port reads), with a loop for each shape
//! of port: one entry for the block, a contiguous slice, runs over the innermost variable's
//! states (unrolled for 2 to 10 states), or a stride.
//!
//! They are `#[inline(always)]`: the propagation is compiled twice, portable and for AVX2
//! (`JunctionTree::propagate_avx2`), and each copy must get its own build of every kernel.
//! For the same reason they never zip iterators (they index slices, or step a run iterator
//! and the starts by hand): inside the AVX2 copy, LLVM leaves the standard library's `Zip`
//! methods out of line, compiled without AVX2 and called once per run (on barley about 15 % of the
//! time went there). Hence the indexed loops, which clippy would otherwise turn back into
//! iterators.
#![allow(clippy::needless_range_loop)]

use super::Port;

/// Calls `$f::<R>(args)` with a run length known to the compiler (2 to 10 entries: variables
/// of that many states innermost, whose run loops are then unrolled), else `$fallback`.
macro_rules! fixed_run {
    ($run:expr, $f:ident($($arg:expr),*), $fallback:expr) => {
        match $run {
            2 => $f::<2>($($arg),*),
            3 => $f::<3>($($arg),*),
            4 => $f::<4>($($arg),*),
            5 => $f::<5>($($arg),*),
            6 => $f::<6>($($arg),*),
            7 => $f::<7>($($arg),*),
            8 => $f::<8>($($arg),*),
            9 => $f::<9>($($arg),*),
            10 => $f::<10>($($arg),*),
            _ => $fallback,
        }
    };
}

/// Multiplies a block of entries by an array read through a port.
#[inline(always)]
pub(super) fn multiply(out: &mut [f64], array: &[f64], base: usize, port: &Port) {
    match port {
        Port::Const => {
            let x = array[base];
            if x != 1.0 {
                scale(out, x);
            }
        }
        Port::Contig => {
            let n = out.len();
            multiply_entries(out, &array[base..base + n]);
        }
        Port::Runs { run, step, starts } => {
            let array = &array[base..];
            let run = *run;
            match step {
                0 => fixed_run!(run, broadcast_runs(out, array, starts), {
                    for i in 0..runs_in(out, run, starts) {
                        scale(&mut out[i * run..(i + 1) * run], array[starts[i] as usize]);
                    }
                }),
                1 => fixed_run!(run, multiply_runs(out, array, starts), {
                    for i in 0..runs_in(out, run, starts) {
                        let k = starts[i] as usize;
                        multiply_entries(&mut out[i * run..(i + 1) * run], &array[k..k + run]);
                    }
                }),
                _ => fixed_run!(
                    run,
                    strided_runs(out, array, starts, *step, |o, x| *o *= x),
                    long_strided_runs(out, array, starts, run, *step, |o, x| *o *= x)
                ),
            }
        }
        Port::Strided { step } => strided(out, &array[base..], *step, |o, x| *o *= x),
    }
}

/// Fills a block of entries from an array read through a port.
#[inline(always)]
pub(super) fn load(out: &mut [f64], array: &[f64], base: usize, port: &Port) {
    match port {
        Port::Const => out.fill(array[base]),
        Port::Contig => {
            let n = out.len();
            out.copy_from_slice(&array[base..base + n]);
        }
        Port::Runs { run, step, starts } => {
            let array = &array[base..];
            let run = *run;
            match step {
                0 => {
                    for i in 0..runs_in(out, run, starts) {
                        let x = array[starts[i] as usize];
                        for o in &mut out[i * run..(i + 1) * run] {
                            *o = x;
                        }
                    }
                }
                1 => fixed_run!(run, load_runs(out, array, starts), {
                    for i in 0..runs_in(out, run, starts) {
                        let k = starts[i] as usize;
                        out[i * run..(i + 1) * run].copy_from_slice(&array[k..k + run]);
                    }
                }),
                _ => fixed_run!(
                    run,
                    strided_runs(out, array, starts, *step, |o, x| *o = x),
                    long_strided_runs(out, array, starts, run, *step, |o, x| *o = x)
                ),
            }
        }
        Port::Strided { step } => strided(out, &array[base..], *step, |o, x| *o = x),
    }
}

/// Adds a block of entries into an array written through a port.
#[inline(always)]
pub(super) fn scatter_add(array: &mut [f64], values: &[f64], base: usize, port: &Port) {
    match port {
        Port::Const => array[base] += sum(values),
        Port::Contig => {
            let n = values.len();
            add_entries(&mut array[base..base + n], values);
        }
        Port::Runs { run, step, starts } => {
            let array = &mut array[base..];
            let run = *run;
            match step {
                0 => fixed_run!(run, fold_runs(array, values, starts), {
                    for i in 0..runs_in(values, run, starts) {
                        array[starts[i] as usize] += sum(&values[i * run..(i + 1) * run]);
                    }
                }),
                1 => fixed_run!(run, scatter_add_runs(array, values, starts), {
                    for i in 0..runs_in(values, run, starts) {
                        let k = starts[i] as usize;
                        add_entries(&mut array[k..k + run], &values[i * run..(i + 1) * run]);
                    }
                }),
                _ => fixed_run!(
                    run,
                    strided_add_runs(array, values, starts, *step),
                    for i in 0..runs_in(values, run, starts) {
                        let k = starts[i] as usize;
                        for j in 0..run {
                            array[k + j * step] += values[i * run + j];
                        }
                    }
                ),
            }
        }
        Port::Strided { step } => {
            let array = &mut array[base..];
            for (i, &x) in values.iter().enumerate() {
                array[i * step] += x;
            }
        }
    }
}

/// How many runs of `run` entries of a block a port's `starts` place: as many as both have.
#[inline(always)]
fn runs_in(block: &[f64], run: usize, starts: &[u32]) -> usize {
    starts.len().min(block.len() / run)
}

/// Run `i` of a block cut into runs of `R` entries.
#[inline(always)]
fn run_at<const R: usize>(s: &[f64], i: usize) -> &[f64; R] {
    s[i * R..(i + 1) * R]
        .try_into()
        .expect("a run of R entries")
}

/// `out[i] *= x`.
#[inline(always)]
fn scale(out: &mut [f64], x: f64) {
    for o in out {
        *o *= x;
    }
}

/// `out[i] *= xs[i]` (`xs` as long as `out`).
#[inline(always)]
fn multiply_entries(out: &mut [f64], xs: &[f64]) {
    let xs = &xs[..out.len()];
    for i in 0..xs.len() {
        out[i] *= xs[i];
    }
}

/// `out[i] += xs[i]` (`xs` as long as `out`).
#[inline(always)]
fn add_entries(out: &mut [f64], xs: &[f64]) {
    let xs = &xs[..out.len()];
    for i in 0..xs.len() {
        out[i] += xs[i];
    }
}

/// `out[i] = xs[i] * x` (`xs` as long as `out`).
#[inline(always)]
fn scaled(out: &mut [f64], xs: &[f64], x: f64) {
    let xs = &xs[..out.len()];
    for i in 0..xs.len() {
        out[i] = xs[i] * x;
    }
}

/// [`multiply`] through runs of `R` consecutive entries.
#[inline(always)]
fn multiply_runs<const R: usize>(out: &mut [f64], array: &[f64], starts: &[u32]) {
    let mut starts = starts.iter();
    for o in out.chunks_exact_mut(R) {
        let Some(&k) = starts.next() else { break };
        let k = k as usize;
        let x: &[f64; R] = array[k..k + R].try_into().expect("a run of R entries");
        for r in 0..R {
            o[r] *= x[r];
        }
    }
}

/// Runs of `R` entries read from `array` with a stride of `step` (a transposed layout),
/// combined into the block's entries by `f` (multiply or load).
#[inline(always)]
fn strided_runs<const R: usize>(
    out: &mut [f64],
    array: &[f64],
    starts: &[u32],
    step: usize,
    f: impl Fn(&mut f64, f64),
) {
    let mut starts = starts.iter();
    for o in out.chunks_exact_mut(R) {
        let Some(&k) = starts.next() else { break };
        let k = k as usize;
        for r in 0..R {
            f(&mut o[r], array[k + r * step]);
        }
    }
}

/// [`strided_runs`] for runs of any length.
#[inline(always)]
fn long_strided_runs(
    out: &mut [f64],
    array: &[f64],
    starts: &[u32],
    run: usize,
    step: usize,
    f: impl Fn(&mut f64, f64),
) {
    for i in 0..runs_in(out, run, starts) {
        let k = starts[i] as usize;
        for j in 0..run {
            f(&mut out[i * run + j], array[k + j * step]);
        }
    }
}

/// The entries `i * step` of `array`, combined into the block's entries `i` by `f`.
#[inline(always)]
fn strided(out: &mut [f64], array: &[f64], step: usize, f: impl Fn(&mut f64, f64)) {
    for (i, o) in out.iter_mut().enumerate() {
        f(o, array[i * step]);
    }
}

/// [`scatter_add`] of runs of `R` entries into `array` with a stride of `step`.
#[inline(always)]
fn strided_add_runs<const R: usize>(
    array: &mut [f64],
    values: &[f64],
    starts: &[u32],
    step: usize,
) {
    let mut starts = starts.iter();
    for v in values.chunks_exact(R) {
        let Some(&k) = starts.next() else { break };
        let k = k as usize;
        for r in 0..R {
            array[k + r * step] += v[r];
        }
    }
}

/// `out = values ×` an array read through a port, in one pass where the port allows.
#[inline(always)]
pub(super) fn times(out: &mut [f64], values: &[f64], array: &[f64], base: usize, port: &Port) {
    match port {
        // Usual for a message from the parent: its variables are outer, one entry for the
        // whole block, or one per run of the innermost variable's states.
        Port::Const => scaled(out, values, array[base]),
        Port::Contig => {
            let n = out.len();
            let (array, values) = (&array[base..base + n], &values[..n]);
            for i in 0..n {
                out[i] = values[i] * array[i];
            }
        }
        Port::Runs {
            run,
            step: 0,
            starts,
        } => fixed_run!(
            *run,
            broadcast_times(out, values, &array[base..], starts),
            {
                let array = &array[base..];
                let run = *run;
                for i in 0..runs_in(out, run, starts) {
                    let x = array[starts[i] as usize];
                    scaled(
                        &mut out[i * run..(i + 1) * run],
                        &values[i * run..(i + 1) * run],
                        x,
                    );
                }
            }
        ),
        _ => {
            load(out, array, base, port);
            multiply_entries(out, values);
        }
    }
}

/// [`times`] by one entry per run of `R` consecutive entries.
#[inline(always)]
fn broadcast_times<const R: usize>(out: &mut [f64], values: &[f64], array: &[f64], starts: &[u32]) {
    let mut starts = starts.iter();
    let mut values = values.chunks_exact(R);
    for o in out.chunks_exact_mut(R) {
        let (Some(&k), Some(v)) = (starts.next(), values.next()) else {
            break;
        };
        let x = array[k as usize];
        for r in 0..R {
            o[r] = v[r] * x;
        }
    }
}

/// [`multiply`] by one entry per run of `R` consecutive entries.
#[inline(always)]
fn broadcast_runs<const R: usize>(out: &mut [f64], array: &[f64], starts: &[u32]) {
    let mut starts = starts.iter();
    for o in out.chunks_exact_mut(R) {
        let Some(&k) = starts.next() else { break };
        let x = array[k as usize];
        for r in 0..R {
            o[r] *= x;
        }
    }
}

/// [`scatter_add`] of each run of `R` consecutive entries into one entry.
#[inline(always)]
fn fold_runs<const R: usize>(array: &mut [f64], values: &[f64], starts: &[u32]) {
    let mut starts = starts.iter();
    for v in values.chunks_exact(R) {
        let Some(&k) = starts.next() else { break };
        let mut total = 0.0;
        for r in 0..R {
            total += v[r];
        }
        array[k as usize] += total;
    }
}

/// [`load`] through runs of `R` consecutive entries.
#[inline(always)]
fn load_runs<const R: usize>(out: &mut [f64], array: &[f64], starts: &[u32]) {
    let mut starts = starts.iter();
    for o in out.chunks_exact_mut(R) {
        let Some(&k) = starts.next() else { break };
        let k = k as usize;
        o.copy_from_slice(&array[k..k + R]);
    }
}

/// [`scatter_add`] through runs of `R` consecutive entries. Consecutive runs that go to the
/// same entries (the marginal of a clique's innermost variable: every run) are summed in
/// registers first, four runs at a time: adding each into memory in turn would chain every
/// addition to the store before it.
#[inline(always)]
fn scatter_add_runs<const R: usize>(array: &mut [f64], values: &[f64], starts: &[u32]) {
    let n = runs_in(values, R, starts);
    let mut i = 0;
    while i < n {
        let k = starts[i];
        let mut j = i + 1;
        while j < n && starts[j] == k {
            j += 1;
        }
        let a: &mut [f64; R] = (&mut array[k as usize..k as usize + R])
            .try_into()
            .expect("a run of R entries");
        let sums = match j == i + 1 {
            true => *run_at::<R>(values, i),
            false => run_sums::<R>(&values[i * R..j * R]),
        };
        for r in 0..R {
            a[r] += sums[r];
        }
        i = j;
    }
}

/// The entrywise sum of consecutive runs of `R` entries, with four accumulators.
#[inline(always)]
fn run_sums<const R: usize>(values: &[f64]) -> [f64; R] {
    let mut acc = [[0.0f64; R]; 4];
    let mut quads = values.chunks_exact(4 * R);
    for q in &mut quads {
        for (l, acc) in acc.iter_mut().enumerate() {
            for r in 0..R {
                acc[r] += q[l * R + r];
            }
        }
    }
    for (l, v) in quads.remainder().chunks_exact(R).enumerate() {
        for r in 0..R {
            acc[l][r] += v[r];
        }
    }
    let mut out = [0.0f64; R];
    for r in 0..R {
        out[r] = (acc[0][r] + acc[1][r]) + (acc[2][r] + acc[3][r]);
    }
    out
}

/// The sum of a run, with four accumulators: a single running sum is a chain of dependent
/// additions that the processor cannot overlap.
#[inline(always)]
pub(super) fn sum(run: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let mut quads = run.chunks_exact(4);
    for c in &mut quads {
        acc[0] += c[0];
        acc[1] += c[1];
        acc[2] += c[2];
        acc[3] += c[3];
    }
    let mut tail = 0.0;
    for &x in quads.remainder() {
        tail += x;
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every port shape the sweeps use, with run lengths on both sides of the unrolled ones
    /// (1 to 12, 20 and 67 entries): each kernel against its definition entry by entry,
    /// through `Port::offset`. Integer values make every sum exact in any order.
    #[test]
    fn kernels_match_their_definitions_on_every_port_shape() {
        let mut ports = vec![(Port::Const, 24), (Port::Contig, 24)];
        for run in (1..=12).chain([20, 67]) {
            let runs = 7;
            for step in [0, 1, 3] {
                // Runs that repeat (as a marginal's do), then go elsewhere.
                let starts: Vec<u32> = (0..runs).map(|r| ((r / 2) * 5) as u32).collect();
                ports.push((Port::Runs { run, step, starts }, run * runs));
            }
            ports.push((Port::Strided { step: 2 }, run));
        }
        for (port, len) in &ports {
            let base = 3;
            let reach = (0..*len).map(|x| base + port.offset(x) + 1).max().unwrap();
            let array: Vec<f64> = (0..reach).map(|i| (1 + (i * 7) % 5) as f64).collect();
            let values: Vec<f64> = (0..*len).map(|i| (1 + (i * 3) % 4) as f64).collect();
            let at = |x: usize| base + port.offset(x);

            let mut got = vec![0.0; *len];
            load(&mut got, &array, base, port);
            let want: Vec<f64> = (0..*len).map(|x| array[at(x)]).collect();
            assert_eq!(got, want, "load through {port:?}");

            let mut got = values.clone();
            multiply(&mut got, &array, base, port);
            let want: Vec<f64> = (0..*len).map(|x| values[x] * array[at(x)]).collect();
            assert_eq!(got, want, "multiply through {port:?}");

            let mut got = vec![0.0; *len];
            times(&mut got, &values, &array, base, port);
            assert_eq!(got, want, "times through {port:?}");

            let mut got = array.clone();
            scatter_add(&mut got, &values, base, port);
            let mut want = array.clone();
            for (x, v) in values.iter().enumerate() {
                want[at(x)] += v;
            }
            assert_eq!(got, want, "scatter_add through {port:?}");
        }
    }
}
