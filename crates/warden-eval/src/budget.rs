//! What one evaluation may spend: steps of work and bytes of memory. A step is one
//! expression evaluated, or `BYTES_PER_STEP` bytes that an operation scans or builds
//! (a list element counts as one value slot), so `+`, `split` or `sorted` on a large
//! value cost what they do, not one step. Memory is the bytes of the strings and
//! lists the evaluator builds, counted as they are built and never given back: a
//! deterministic upper bound on what the values of one evaluation hold (see
//! `docs/design.md`). Once either is spent, every expression that is still evaluated
//! fails, so each rule that could not finish is an `error` naming its own expression.

use std::fmt;
use std::str::FromStr;

use crate::value::Value;

/// Bytes a step pays for: about one value slot, so scanning or building a list costs
/// one step per element, and a string one per 32 bytes.
pub const BYTES_PER_STEP: u64 = 32;

/// The bytes of one value in a list.
pub const SLOT_BYTES: u64 = std::mem::size_of::<Value<'static>>() as u64;

/// The bytes a shared string or list carries besides its contents (`Rc`'s counts).
pub const SHARED_HEADER_BYTES: u64 = 16;

/// A number of bytes, written and read as `256MiB`, `1GiB`, `64KiB` or plain bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ByteSize(pub u64);

const UNITS: [(&str, u64); 4] = [
    ("GiB", 1 << 30),
    ("MiB", 1 << 20),
    ("KiB", 1 << 10),
    ("B", 1),
];

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (unit, size) = UNITS
            .into_iter()
            .find(|(_, size)| self.0 >= *size && self.0.is_multiple_of(*size))
            .unwrap_or(("B", 1));
        write!(f, "{} {unit}", self.0 / size)
    }
}

impl FromStr for ByteSize {
    type Err = String;

    fn from_str(text: &str) -> Result<ByteSize, String> {
        let text = text.trim();
        let digits = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(digits);
        let unit = unit.trim();
        let scale = if unit.is_empty() {
            Some(1)
        } else {
            UNITS
                .into_iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(unit))
                .map(|(_, size)| size)
        };
        let invalid = || {
            format!(
                "`{text}` is not a size: write a whole number of bytes, or one with a unit (`KiB`, `MiB`, `GiB`), like `256MiB`"
            )
        };
        let (Ok(number), Some(scale)) = (number.parse::<u64>(), scale) else {
            return Err(invalid());
        };
        number.checked_mul(scale).map(ByteSize).ok_or_else(invalid)
    }
}

/// The work and memory an evaluation has spent, against its limits.
#[derive(Debug)]
pub struct Budget {
    steps: u64,
    /// `max_steps`, or 0 once memory is exhausted, so that the one comparison of every
    /// step also stops the evaluation after the memory cap.
    step_limit: u64,
    max_steps: u64,
    memory: u64,
    max_memory: ByteSize,
}

impl Budget {
    pub fn new(max_steps: u64, max_memory: ByteSize) -> Budget {
        Budget {
            steps: 0,
            step_limit: max_steps,
            max_steps,
            memory: 0,
            max_memory,
        }
    }

    /// One expression evaluated; false once the evaluation is exhausted.
    #[inline]
    pub fn step(&mut self) -> bool {
        self.steps = self.steps.saturating_add(1);
        self.steps <= self.step_limit
    }

    /// `n` expressions evaluated at once, if all of them fit in what is left; false,
    /// with nothing counted, otherwise (the caller then evaluates one at a time).
    #[inline]
    pub fn steps(&mut self, n: u64) -> bool {
        match self.steps.checked_add(n) {
            Some(steps) if steps <= self.step_limit => {
                self.steps = steps;
                true
            }
            _ => false,
        }
    }

    /// Work in proportion to `bytes` scanned; false once the evaluation is exhausted.
    #[inline]
    pub fn scan(&mut self, bytes: u64) -> bool {
        self.steps = self.steps.saturating_add(bytes / BYTES_PER_STEP);
        self.steps <= self.step_limit
    }

    /// `bytes` built, in memory and in work; false once the evaluation is exhausted.
    #[inline]
    pub fn build(&mut self, bytes: u64) -> bool {
        self.memory = self.memory.saturating_add(bytes);
        if self.memory > self.max_memory.0 {
            self.step_limit = 0;
            return false;
        }
        self.scan(bytes)
    }

    /// How many more bytes may be scanned or built before the evaluation is
    /// exhausted (and a step's worth more): a bound for walks and counts whose size is
    /// not known in advance.
    pub fn remaining_bytes(&self) -> u64 {
        let work = self
            .step_limit
            .saturating_sub(self.steps)
            .saturating_mul(BYTES_PER_STEP);
        let memory = self.max_memory.0.saturating_sub(self.memory);
        work.min(memory).saturating_add(BYTES_PER_STEP)
    }

    /// Why the evaluation stopped.
    pub fn exhausted(&self) -> String {
        if self.memory > self.max_memory.0 {
            format!(
                "the evaluation's memory cap of {} is exhausted",
                self.max_memory
            )
        } else {
            format!(
                "the evaluation budget of {} steps is exhausted",
                self.max_steps
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ByteSize;

    #[test]
    fn sizes_read_with_or_without_a_unit() {
        let read = |text: &str| text.parse::<ByteSize>().map(|size| size.0);
        assert_eq!(read("256MiB"), Ok(256 << 20));
        assert_eq!(read("1GiB"), Ok(1 << 30));
        assert_eq!(read("64 kib"), Ok(64 << 10));
        assert_eq!(read("1000"), Ok(1000));
        assert_eq!(read("12B"), Ok(12));
        for bad in [
            "",
            "MiB",
            "1.5GiB",
            "256MB",
            "-1",
            "99999999999999999999GiB",
        ] {
            assert!(read(bad).is_err(), "{bad} was read as a size");
        }
    }

    #[test]
    fn sizes_display_in_the_largest_whole_unit() {
        assert_eq!(ByteSize(256 << 20).to_string(), "256 MiB");
        assert_eq!(ByteSize(1 << 30).to_string(), "1 GiB");
        assert_eq!(ByteSize(1500).to_string(), "1500 B");
        assert_eq!(ByteSize(0).to_string(), "0 B");
    }
}
