//! The one place the engine shares memory unsafely: a matrix whose rows every worker thread
//! reads and updates at once, without locks. (The crate's only other `unsafe` is in `kernels`:
//! the SIMD intrinsics, and the call of the worker loop compiled for the instruction set the CPU
//! was found to have.)

use std::marker::PhantomData;

/// A row-major `rows × cols` matrix shared by the worker threads for Hogwild SGD (Recht et al.
/// 2011, "Hogwild!: A Lock-Free Approach to Parallelizing Stochastic Gradient Descent"), as
/// word2vec.c, gensim and finalfrontier train: each thread reads and writes the rows of the
/// words it is training on, unsynchronised.
///
/// # Why the unsafety is sound enough, argued once
///
/// - **Bounds.** [`row`](Self::row) and [`row_mut`](Self::row_mut) check the row index against
///   the number of rows, so no access leaves the buffer. The check is a compare and a branch
///   that is never taken: +0.6% instructions in the hot loop (callgrind), no wall-time
///   difference measurable on enwiki-10M. The buffer is mutably borrowed for `'a`, so nothing outside the matrices reads or
///   writes it while they exist, and it outlives every thread that uses them (scoped threads).
/// - **Between threads.** Two threads may touch the same row at the same time: a data race,
///   which Rust's memory model calls undefined behaviour. We accept it as every Hogwild trainer
///   does: on the machines we build for, `f32` loads and stores are single instructions, so the
///   worst outcome is a lost or stale update of a few components, which SGD absorbs (the point
///   of Hogwild: updates are sparse, collisions rare). Atomics would make each access a
///   separate, non-vectorised instruction in the hot loop.
/// - **Within a thread.** The engine holds at most one row of each matrix at a time and drops it
///   before taking the next, and the matrices are distinct buffers, so one thread never holds
///   two aliasing `&mut` rows. The type is private to the engine so this stays checkable here.
pub(super) struct HogwildMatrix<'a> {
    ptr: *mut f32,
    rows: usize,
    cols: usize,
    _borrow: PhantomData<&'a mut [f32]>,
}

// SAFETY: the type's documentation argues concurrent use; the pointer is borrowed for 'a.
unsafe impl Send for HogwildMatrix<'_> {}
// SAFETY: as above.
unsafe impl Sync for HogwildMatrix<'_> {}

impl<'a> HogwildMatrix<'a> {
    /// Shares `data`, a row-major matrix of `cols` columns, until `'a` ends.
    ///
    /// # Panics
    /// When `cols` is 0 or does not divide `data.len()`.
    pub(super) fn new(data: &'a mut [f32], cols: usize) -> Self {
        assert!(
            cols > 0 && data.len().is_multiple_of(cols),
            "{} values do not make rows of {cols}",
            data.len()
        );
        HogwildMatrix {
            ptr: data.as_mut_ptr(),
            rows: data.len() / cols,
            cols,
            _borrow: PhantomData,
        }
    }

    /// Row `i`, to read.
    ///
    /// # Panics
    /// When `i` is not a row.
    #[inline(always)]
    pub(super) fn row(&self, i: u32) -> &[f32] {
        let start = self.start(i);
        // SAFETY: `start..start + cols` lies in the borrowed buffer (checked by `start`);
        // concurrent writes by other threads: see the type's documentation.
        unsafe { std::slice::from_raw_parts(self.ptr.add(start), self.cols) }
    }

    /// Row `i`, to update in place.
    ///
    /// # Panics
    /// When `i` is not a row.
    #[inline(always)]
    #[allow(clippy::mut_from_ref)] // shared mutation is what Hogwild is; see the type's docs
    pub(super) fn row_mut(&self, i: u32) -> &mut [f32] {
        let start = self.start(i);
        // SAFETY: as in `row`; aliasing: see the type's documentation.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.add(start), self.cols) }
    }

    /// The offset of row `i`, after checking that it is a row.
    #[inline(always)]
    fn start(&self, i: u32) -> usize {
        let i = i as usize;
        if i >= self.rows {
            row_out_of_bounds(i, self.rows);
        }
        i * self.cols
    }
}

/// The panic of an out-of-bounds row, kept out of the hot loop's code.
#[cold]
#[inline(never)]
fn row_out_of_bounds(i: usize, rows: usize) -> ! {
    panic!("row {i} of a matrix with {rows} rows")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_read_and_write_the_borrowed_buffer() {
        let mut data = vec![0f32; 6];
        {
            let m = HogwildMatrix::new(&mut data, 3);
            m.row_mut(1).copy_from_slice(&[1.0, 2.0, 3.0]);
            assert_eq!(m.row(1), [1.0, 2.0, 3.0]);
            assert_eq!(m.row(0), [0.0; 3]);
        }
        assert_eq!(data, [0.0, 0.0, 0.0, 1.0, 2.0, 3.0]);
    }

    #[test]
    #[should_panic(expected = "row 2 of a matrix with 2 rows")]
    fn a_row_past_the_end_panics() {
        let mut data = vec![0f32; 6];
        HogwildMatrix::new(&mut data, 3).row(2);
    }

    #[test]
    fn an_empty_matrix_has_no_rows() {
        let mut data: Vec<f32> = Vec::new();
        let m = HogwildMatrix::new(&mut data, 4);
        assert_eq!(m.rows, 0);
    }
}
