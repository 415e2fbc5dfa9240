//! Where a training step's time goes: a [`PhaseClock`] that [`crate::train_step_timed`]
//! marks at the end of each [`Phase`], waiting for the device at each mark, so that the
//! split of [`crate::bench::time_steps`] (`manifold bench dnm --phases`) adds up to the
//! step time. Inside the backward pass the fused closeness and forward-pass backwards
//! time themselves (`backward_span`) while a clock is on, and the rest of the backward
//! (the losses', the head's, the autodiff graph's own work) is what remains.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use burn::tensor::backend::Backend;
use serde::Serialize;

/// The parts of one training step, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Gathering the minibatch and moving it to the device.
    Batch,
    /// The closeness grid: `D` (or its kept cells) and the density surrogate.
    Closeness,
    /// Depth, density and connectivity of `D`, on the host.
    Structure,
    /// The forward pass over the kept connections, and the output head.
    Forward,
    /// The flow loss, the objective, the total and reading them back.
    Loss,
    /// The fused closeness backward (inside the backward pass).
    ClosenessBackward,
    /// The fused forward pass's backward (inside the backward pass).
    ForwardBackward,
    /// The rest of the backward pass: the flow's, the loss's and the head's backwards and
    /// the autodiff graph's own work.
    OtherBackward,
    /// Adam's update.
    Optimiser,
}

impl Phase {
    /// Every phase, in step order.
    pub const ALL: [Phase; 9] = [
        Phase::Batch,
        Phase::Closeness,
        Phase::Structure,
        Phase::Forward,
        Phase::Loss,
        Phase::ClosenessBackward,
        Phase::ForwardBackward,
        Phase::OtherBackward,
        Phase::Optimiser,
    ];

    fn index(self) -> usize {
        Phase::ALL.iter().position(|&p| p == self).expect("listed")
    }

    /// The phase's name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Batch => "batch",
            Phase::Closeness => "closeness",
            Phase::Structure => "structure",
            Phase::Forward => "forward",
            Phase::Loss => "loss",
            Phase::ClosenessBackward => "closeness_backward",
            Phase::ForwardBackward => "forward_backward",
            Phase::OtherBackward => "other_backward",
            Phase::Optimiser => "optimiser",
        }
    }
}

/// Milliseconds per [`Phase`] of one step, indexed as [`Phase::ALL`].
pub type PhaseTimes = [f64; 9];

/// Clocks that are on; while there is one, [`backward_span`] measures.
static CLOCKS_ON: AtomicUsize = AtomicUsize::new(0);
/// Milliseconds the fused backwards measured since the last [`Phase::OtherBackward`]
/// mark: closeness, forward pass.
static SPANS: Mutex<[f64; 2]> = Mutex::new([0.0; 2]);

/// Runs `f`, one of the fused backwards (`phase` is [`Phase::ClosenessBackward`] or
/// [`Phase::ForwardBackward`]); while a [`PhaseClock`] is on, waits for `device` before
/// and after and adds the time to that phase. Clocks on several threads at once would
/// share these spans: the profile is for one training loop at a time.
pub(crate) fn backward_span<B: Backend, T>(
    phase: Phase,
    device: &B::Device,
    f: impl FnOnce() -> T,
) -> T {
    if CLOCKS_ON.load(Ordering::Relaxed) == 0 {
        return f();
    }
    let _ = B::sync(device);
    let started = Instant::now();
    let out = f();
    let _ = B::sync(device);
    let ms = started.elapsed().as_secs_f64() * 1e3;
    let k = usize::from(phase == Phase::ForwardBackward);
    SPANS.lock().unwrap_or_else(|e| e.into_inner())[k] += ms;
    out
}

/// Records the time since the previous mark into the phase being marked. A clock that
/// is off ([`PhaseClock::off`]) records nothing and never waits for the device.
#[derive(Debug)]
pub struct PhaseClock<'a, B: Backend> {
    on: Option<(&'a B::Device, Instant, PhaseTimes)>,
}

impl<'a, B: Backend> PhaseClock<'a, B> {
    /// A clock that records nothing (what [`crate::train_step`] uses).
    pub fn off() -> Self {
        Self { on: None }
    }

    /// A clock that starts now and waits for `device` at every mark.
    pub fn on(device: &'a B::Device) -> Self {
        CLOCKS_ON.fetch_add(1, Ordering::Relaxed);
        *SPANS.lock().unwrap_or_else(|e| e.into_inner()) = [0.0; 2];
        Self {
            on: Some((device, Instant::now(), [0.0; 9])),
        }
    }

    /// Ends `phase`: waits for the device and adds the time since the last mark to it.
    /// Marking [`Phase::OtherBackward`] ends the whole backward pass: the fused
    /// backwards' own spans go to their phases and the remainder to this one.
    pub fn mark(&mut self, phase: Phase) {
        if let Some((device, last, times)) = &mut self.on {
            // A device that fails here fails the step's next read-back too; the clock
            // only measures.
            let _ = B::sync(device);
            let now = Instant::now();
            let mut ms = (now - *last).as_secs_f64() * 1e3;
            if phase == Phase::OtherBackward {
                let spans = std::mem::take(&mut *SPANS.lock().unwrap_or_else(|e| e.into_inner()));
                times[Phase::ClosenessBackward.index()] += spans[0];
                times[Phase::ForwardBackward.index()] += spans[1];
                ms = (ms - spans[0] - spans[1]).max(0.0);
            }
            times[phase.index()] += ms;
            *last = now;
        }
    }

    /// The times recorded so far (zeros for a clock that is off).
    pub fn times(&self) -> PhaseTimes {
        self.on.as_ref().map_or([0.0; 9], |(_, _, t)| *t)
    }
}

impl<B: Backend> Drop for PhaseClock<'_, B> {
    fn drop(&mut self) {
        if self.on.is_some() {
            CLOCKS_ON.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type B = burn_ndarray::NdArray<f32>;

    #[test]
    fn a_clock_adds_each_interval_to_the_phase_it_marks_and_an_off_clock_records_nothing() {
        let device = Default::default();
        let mut clock = PhaseClock::<B>::on(&device);
        std::thread::sleep(std::time::Duration::from_millis(20));
        clock.mark(Phase::Forward);
        clock.mark(Phase::Loss);
        std::thread::sleep(std::time::Duration::from_millis(5));
        clock.mark(Phase::Forward);
        let t = clock.times();
        assert!(t[3] >= 25.0, "forward got both sleeps: {t:?}");
        assert!(
            t[4] < t[3],
            "loss got only the gap between two marks: {t:?}"
        );
        assert_eq!(t[0] + t[1] + t[2], 0.0);
        // A fused backward's span goes to its phase, the rest of the backward to
        // OtherBackward.
        backward_span::<B, _>(Phase::ClosenessBackward, &device, || {
            std::thread::sleep(std::time::Duration::from_millis(10))
        });
        std::thread::sleep(std::time::Duration::from_millis(10));
        clock.mark(Phase::OtherBackward);
        let t = clock.times();
        assert!(t[5] >= 10.0 && t[7] >= 10.0, "{t:?}");
        assert_eq!(t[6], 0.0);
        drop(clock);
        let mut off = PhaseClock::<B>::off();
        off.mark(Phase::Forward);
        assert_eq!(off.times(), [0.0; 9]);
    }
}
