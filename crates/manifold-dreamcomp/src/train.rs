//! Training: shuffled epochs of minibatches through [`crate::rule`], the labelled
//! subset of the semi-supervised mode and the "dreamed" labels of the others, and
//! evaluation (test / train accuracy).
//!
//! Semi-supervised mode (`label_fraction < 1`): a fixed random subset keeps its labels;
//! from epoch `dream_after` on (before it, unlabelled samples train pixels only), for
//! every other sample the network dreams the label — the class of the neuron whose
//! pixel synapses match the image best fills the label synapses — before the rule
//! runs. Label synapses learn at `c_xi · label_boost` from true labels and at
//! `c_xi · dream_scale` from dreamed ones.

use std::path::Path;
use std::time::Instant;

use crate::kernels::DreamCompBackend;
use burn::tensor::{backend::Backend, Int, Tensor, TensorData};
use manifold_data::{ImageSet, Mnist};
use manifold_train::{
    all_finite, fit, load_module, median, save_module, shuffled, Evaluation, Learner, Observer,
    Position, Schedule, StepError, Summary, TrainError, Trained,
};

use crate::model::{neuron_classes, unlabelled_penalty, DreamComp, CLASSES, PIXELS};
use crate::rule::{scores, step, synapse_rows, update};
use crate::{pictures, DreamCompConfig};

/// The columns of DreamComp's `metrics.csv`, one row per epoch.
pub const METRICS: [&str; 6] = [
    "epoch",
    "step",
    "test_accuracy",
    "train_accuracy",
    "epoch_seconds",
    "wall_seconds",
];

/// Images of the training set scored for the per-epoch train accuracy.
pub const TRAIN_EVAL_LIMIT: usize = 10_000;

/// The update rule as configured: the per-synapse rates, the labelled subset, the
/// minibatches of each epoch, and one step of the rule.
pub struct UpdateRule<B: Backend> {
    /// The configuration the rule was built from.
    pub config: DreamCompConfig,
    /// `ξ` (`1 × 794`) of fully labelled batches.
    xi: Tensor<B, 2>,
    /// `1/ζ` (`1 × 794`).
    inv_zeta: Tensor<B, 2>,
    /// `ξ` on pixels, 0 on labels (`1 × 794`), and the label-column mask.
    xi_pixels: Tensor<B, 2>,
    label_mask: Tensor<B, 2>,
    /// Which training images keep their label.
    labelled: Vec<bool>,
    device: B::Device,
}

impl<B: Backend> UpdateRule<B> {
    /// `train_len` images; the labelled subset is drawn from the config's seed.
    pub fn new(config: &DreamCompConfig, train_len: usize, device: &B::Device) -> Self {
        let c = config;
        let (xi, inv_zeta) = synapse_rows::<B>(PIXELS, CLASSES, c.xi, c.c_xi, c.recon, device);
        let (xi_pixels, _) = synapse_rows::<B>(PIXELS, CLASSES, c.xi, 0.0, 1.0, device);
        let (label_mask, _) = synapse_rows::<B>(PIXELS, CLASSES, 0.0, 1.0, 1.0, device);
        Self {
            config: config.clone(),
            xi,
            inv_zeta,
            xi_pixels,
            label_mask,
            labelled: labelled_subset(train_len, c.label_fraction, c.seed),
            device: device.clone(),
        }
    }

    /// The starting weights: in the semi-supervised mode the label synapses start at
    /// 0 (no neuron has a class until a true or dreamed label reaches it).
    pub fn initial(&self, model: DreamComp<B>) -> DreamComp<B> {
        if self.config.label_fraction >= 1.0 {
            return model;
        }
        let (keep, _) = synapse_rows::<B>(PIXELS, CLASSES, 1.0, 0.0, 1.0, &self.device);
        DreamComp::from_weights(model.w() * keep)
    }

    /// Number of training images that keep their label.
    pub fn labelled_count(&self) -> usize {
        self.labelled.iter().filter(|&&l| l).count()
    }

    /// The training images that keep their label.
    pub fn labelled_indices(&self) -> Vec<usize> {
        (0..self.labelled.len())
            .filter(|&i| self.labelled[i])
            .collect()
    }

    /// Minibatches per epoch.
    pub fn batches(&self, train_len: usize) -> usize {
        train_len.div_ceil(self.config.batch_size)
    }

    /// The shuffled order of epoch `epoch` (a function of seed and epoch, so resuming
    /// mid-epoch replays the same order).
    pub fn epoch_order(&self, train_len: usize, epoch: usize) -> Vec<usize> {
        let seed = self.config.seed.wrapping_mul(1_000_003);
        shuffled(train_len, seed.wrapping_add(epoch as u64))
    }

    /// One minibatch `V` (`B × 794`): pixels and the one-hot label where it is kept
    /// (zeros otherwise), and whether each row has a label.
    pub fn batch(&self, set: &ImageSet, idx: &[usize]) -> (Tensor<B, 2>, Vec<bool>) {
        let width = PIXELS + CLASSES;
        let mut v = vec![0f32; idx.len() * width];
        let mut has = Vec::with_capacity(idx.len());
        for (row, &i) in v.chunks_exact_mut(width).zip(idx) {
            row[..PIXELS].copy_from_slice(set.image(i));
            let keep = self.labelled.get(i).copied().unwrap_or(true);
            if keep {
                row[PIXELS + set.labels()[i] as usize] = 1.0;
            }
            has.push(keep);
        }
        let t = Tensor::from_data(TensorData::new(v, [idx.len(), width]), &self.device);
        (t, has)
    }
}

impl<B: DreamCompBackend> UpdateRule<B> {
    /// One step of the rule on the images `idx` in epoch `epoch` (counted from 0);
    /// from epoch `dream_after` on, unlabelled ones are dreamed first.
    pub fn step(
        &self,
        w: Tensor<B, 2>,
        set: &ImageSet,
        idx: &[usize],
        epoch: usize,
    ) -> Tensor<B, 2> {
        let (v, has) = self.batch(set, idx);
        if has.iter().all(|&h| h) {
            return step(w, v, self.xi.clone(), self.inv_zeta.clone());
        }
        let s = scores(w.clone(), v.clone());
        self.dream_step(w, v, s, &has, epoch >= self.config.dream_after)
    }

    /// Fills the label synapses of unlabelled rows with the network's prediction
    /// (adding the matching term `w[k, y]` to their scores), then runs the rule with
    /// per-sample label rates.
    fn dream_step(
        &self,
        w: Tensor<B, 2>,
        v: Tensor<B, 2>,
        s: Tensor<B, 2>,
        has: &[bool],
        dreaming: bool,
    ) -> Tensor<B, 2> {
        let [b, _] = v.dims();
        let k = w.dims()[0];
        let c = &self.config;
        let column = |f: &dyn Fn(bool) -> f32| {
            let d: Vec<f32> = has.iter().map(|&h| f(h)).collect();
            Tensor::<B, 1>::from_floats(d.as_slice(), &self.device).reshape([b, 1])
        };
        // Rows with a label have zero label inputs here, so `s` is the pixel score of
        // every unlabelled row: the class of its best neuron *that has a class* is the
        // dream. Rows with no such neuron (before any label arrived) dream nothing.
        let (best, arg) = (s.clone() + unlabelled_penalty(w.clone())).max_dim_with_indices(1);
        let may_dream = |h: bool| if h || !dreaming { 0.0 } else { 1.0 };
        let dreams = column(&may_dream) * best.greater_elem(-1e29).float();
        let dreamed: Tensor<B, 1, Int> = neuron_classes(w.clone()).select(0, arg.reshape([b]));
        let onehot = dreamed.clone().one_hot::<2>(CLASSES).float() * dreams.clone();
        let v = v + Tensor::cat(vec![Tensor::zeros([b, PIXELS], &self.device), onehot], 1);
        let labels_t = w
            .clone()
            .slice([0..k, PIXELS..PIXELS + CLASSES])
            .transpose();
        let s = s + labels_t.select(0, dreamed) * dreams.clone();
        let rate = column(&|h| {
            if h {
                (c.c_xi * c.label_boost) as f32
            } else {
                0.0
            }
        }) + dreams * (c.c_xi * c.dream_scale);
        let xi = self.xi_pixels.clone() + self.label_mask.clone() * rate;
        update(w, v, s, xi, self.inv_zeta.clone())
    }
}

/// `round(fraction · n)` (at least 1) images drawn at random keep their label.
fn labelled_subset(n: usize, fraction: f64, seed: u64) -> Vec<bool> {
    if fraction >= 1.0 {
        return vec![true; n];
    }
    let idx = shuffled(n, seed ^ 0x5eed_1abe);
    let keep = ((fraction * n as f64).round() as usize).clamp(1, n.max(1));
    let mut mask = vec![false; n];
    for &i in &idx[..keep.min(n)] {
        mask[i] = true;
    }
    mask
}

/// A DreamComp layer being trained by its rule, for [`manifold_train::fit`]: the
/// weights, the rule, and the epoch's timing. [`train`] builds one and runs it;
/// benchmarks call its steps directly. No gradients: `B` is a plain backend.
pub struct DreamCompLearner<'a, B: DreamCompBackend> {
    rule: UpdateRule<B>,
    test: &'a ImageSet,
    train: ImageSet,
    device: B::Device,
    /// Always `Some` between steps (its weights are handed to the rule by value).
    model: Option<DreamComp<B>>,
    /// The epoch whose order `order` holds.
    order: Option<(usize, Vec<usize>)>,
    /// When the current epoch's first step in this process began, and whether that was
    /// the epoch's first minibatch.
    epoch_started: Option<(Instant, bool)>,
    /// Seconds of each epoch run whole in this process.
    epoch_times: Vec<f64>,
    /// The neuron classes of the last evaluation, for the row that follows it (the
    /// model has not changed in between).
    evaluated_classes: Option<Option<Tensor<B, 1, Int>>>,
}

impl<'a, B: DreamCompBackend> DreamCompLearner<'a, B> {
    /// A fresh layer of `config.neurons` neurons trained on `data.train` (limited by
    /// `config.train_limit`), evaluated on `data.test`; the backend is seeded with
    /// `config.seed` first.
    pub fn new(config: &DreamCompConfig, data: &'a Mnist, device: &B::Device) -> Self {
        let train = data.train.limited(config.train_limit);
        B::seed(device, config.seed);
        let rule = UpdateRule::<B>::new(config, train.len(), device);
        let model = rule.initial(DreamComp::<B>::new(config.neurons, device));
        Self {
            rule,
            test: &data.test,
            train,
            device: device.clone(),
            model: Some(model),
            order: None,
            epoch_started: None,
            epoch_times: Vec::new(),
            evaluated_classes: None,
        }
    }

    /// The model as it stands.
    pub fn model(&self) -> &DreamComp<B> {
        self.model
            .as_ref()
            .expect("the model is put back after every step")
    }

    /// Training images (after `train_limit`).
    pub fn images(&self) -> usize {
        self.train.len()
    }

    /// The update rule (its labelled subset, its rates).
    pub fn rule(&self) -> &UpdateRule<B> {
        &self.rule
    }

    /// The neuron classes evaluation uses (see [`neuron_classes_for`]).
    fn classes(&self) -> Option<Tensor<B, 1, Int>> {
        neuron_classes_for(self.model(), &self.rule, &self.train, &self.device)
    }
}

impl<B: DreamCompBackend> Learner for DreamCompLearner<'_, B> {
    type Model = DreamComp<B>;

    fn name(&self) -> &'static str {
        "dreamcomp"
    }

    fn columns(&self) -> &'static [&'static str] {
        &METRICS
    }

    fn schedule(&self) -> Schedule {
        Schedule::Epochs {
            epochs: self.rule.config.epochs,
            batches: self.rule.batches(self.train.len()),
        }
    }

    fn resume(&mut self, dir: &Path, _: &Position) -> Result<(), TrainError> {
        let model = self
            .model
            .take()
            .expect("the model is put back after every step");
        self.model = Some(load_module(model, &dir.join("model"), &self.device)?);
        Ok(())
    }

    fn step(&mut self, at: &Position) -> Result<(), StepError> {
        let n = self.train.len();
        if self.order.as_ref().map(|(e, _)| *e) != Some(at.epoch) {
            self.order = Some((at.epoch, self.rule.epoch_order(n, at.epoch)));
        }
        if self.epoch_started.is_none() {
            self.epoch_started = Some((Instant::now(), at.batch == 0));
        }
        let bs = self.rule.config.batch_size;
        let order = &self.order.as_ref().expect("just filled").1;
        let idx = &order[at.batch * bs..((at.batch + 1) * bs).min(n)];
        // The model is dropped before the step, so the rule holds its weights alone.
        let w = self
            .model
            .take()
            .expect("the model is put back after every step")
            .w();
        let w = self.rule.step(w, &self.train, idx, at.epoch);
        self.model = Some(DreamComp::from_weights(w));
        Ok(())
    }

    /// Test accuracy; the loss is the test error (Hebbian learning has no loss).
    fn evaluate(&mut self) -> Evaluation {
        let classes = self.classes();
        let test = evaluate_as(self.model(), classes.clone(), self.test, 0, &self.device);
        self.evaluated_classes = Some(classes);
        Evaluation::classification(test, 1.0 - test)
    }

    fn row(&mut self, at: &Position, eval: Option<&Evaluation>) -> Vec<f64> {
        // The epoch's time includes the device finishing its work.
        let _ = B::sync(&self.device);
        let epoch_seconds = match self.epoch_started.take() {
            Some((t, whole)) => {
                let seconds = t.elapsed().as_secs_f64();
                if whole {
                    self.epoch_times.push(seconds);
                }
                seconds
            }
            None => f64::NAN,
        };
        let classes = self
            .evaluated_classes
            .take()
            .unwrap_or_else(|| self.classes());
        let train = evaluate_as(
            self.model(),
            classes,
            &self.train,
            TRAIN_EVAL_LIMIT,
            &self.device,
        );
        vec![
            (at.epoch + 1) as f64,
            at.step as f64,
            eval.and_then(|e| e.accuracy).unwrap_or(f64::NAN),
            train,
            epoch_seconds,
            at.wall_seconds,
        ]
    }

    fn status(&self, eval: Option<&Evaluation>) -> Option<String> {
        eval.and_then(|e| e.accuracy)
            .map(|a| format!("test acc {:.2}%", a * 100.0))
    }

    /// The epoch's pictures (tapestry frame and label bars).
    fn recorded(&mut self, observer: &dyn Observer, at: &Position) -> Result<(), TrainError> {
        if let Some(dir) = observer.output_dir().filter(|_| observer.draws_pictures()) {
            pictures::draw_epoch(dir, self.model(), &self.rule.config, at.epoch + 1)?;
        }
        Ok(())
    }

    fn params_finite(&self) -> bool {
        all_finite(self.model())
    }

    fn save(&self, dir: &Path) -> Result<(), TrainError> {
        save_module(self.model(), &dir.join("model"))
    }

    fn finish(
        mut self,
        observer: &dyn Observer,
        at: &Position,
        summary: Summary,
    ) -> Result<(DreamComp<B>, Summary), TrainError> {
        let train = evaluate_as(self.model(), self.classes(), &self.train, 0, &self.device);
        let model = self
            .model
            .take()
            .expect("the model is put back after every step");
        let synapse_test = evaluate(&model, self.test, 0, &self.device);
        if let Some(dir) = observer.output_dir() {
            save_module(&model, &dir.join("model"))?;
            if observer.draws_pictures() && at.epoch > 0 {
                pictures::tapestry_gif(dir, at.epoch, &dir.join("tapestry.gif"))?;
                pictures::draw_curves(dir)?;
            }
        }
        let config = &self.rule.config;
        // Every neuron has a synapse from each pixel and each label input.
        let synapses = model.weights.val().dims().iter().product::<usize>();
        let mut summary = summary
            .with("connections", synapses)
            .with("trainable", synapses)
            .with("neurons", config.neurons)
            .with("train_accuracy", train)
            .with("label_fraction", config.label_fraction)
            .with("test_accuracy_synapse_classes", synapse_test)
            .with("labelled_images", self.rule.labelled_count());
        if !self.epoch_times.is_empty() {
            summary = summary.with("median_epoch_seconds", median(&self.epoch_times));
        }
        Ok((model, summary))
    }
}

/// The neuron classes evaluation uses: `None` for the label synapses' own, else the
/// votes of the labelled training images (`classes_from = labelled`).
pub fn neuron_classes_for<B: Backend>(
    model: &DreamComp<B>,
    rule: &UpdateRule<B>,
    train: &ImageSet,
    device: &B::Device,
) -> Option<Tensor<B, 1, Int>> {
    let c = &rule.config;
    c.classes_from
        .uses_labelled(c.label_fraction)
        .then(|| classes_from_labelled(model, train, &rule.labelled_indices(), device))
}

/// Trains a DreamComp layer on `data.train` for `config.epochs` epochs through
/// [`manifold_train::fit`] (no backpropagation: `B` is a plain backend), with a test and
/// a train accuracy, a metrics row, the epoch's pictures (tapestry and label bars) and a
/// checkpoint after each epoch, reporting to `observer`.
pub fn train<B: DreamCompBackend>(
    config: &DreamCompConfig,
    data: &Mnist,
    device: &B::Device,
    observer: &mut dyn Observer,
) -> Result<Trained<DreamComp<B>>, TrainError> {
    config.validate()?;
    config.check_data(data)?;
    fit(DreamCompLearner::new(config, data, device), observer)
}

/// Accuracy of the model on the first `limit` images of `set` (all when 0), in chunks.
pub fn evaluate<B: Backend>(
    model: &DreamComp<B>,
    set: &ImageSet,
    limit: usize,
    device: &B::Device,
) -> f64 {
    evaluate_as(model, None, set, limit, device)
}

/// [`evaluate`] with the neuron classes `classes` instead of the label synapses' (when given).
pub fn evaluate_as<B: Backend>(
    model: &DreamComp<B>,
    classes: Option<Tensor<B, 1, Int>>,
    set: &ImageSet,
    limit: usize,
    device: &B::Device,
) -> f64 {
    let n = if limit == 0 {
        set.len()
    } else {
        limit.min(set.len())
    };
    let d = set.dim();
    let mut predictions = Vec::with_capacity(n);
    for s in (0..n).step_by(2000) {
        let e = (s + 2000).min(n);
        let x = manifold_train::batch_tensor::<B>(&set.pixels()[s * d..e * d], e - s, d, device);
        let p = match &classes {
            Some(c) => model.predict_as(x, c.clone()),
            None => model.predict(x),
        };
        let p = p.into_data().convert::<i64>();
        predictions.extend(
            p.to_vec::<i64>()
                .expect("ints")
                .into_iter()
                .map(|c| c as usize),
        );
    }
    manifold_train::accuracy(&predictions, &set.labels()[..n])
}

/// Labelled images each neuron consults in [`classes_from_labelled`].
pub const NEAREST_LABELLED: usize = 5;

/// Neuron classes read from the labelled training images (the semi-supervised mode's
/// alternative to the label synapses): a neuron's class is the majority label of the
/// [`NEAREST_LABELLED`] labelled images most similar to its pixel synapses (cosine),
/// ties going to the nearer image.
pub fn classes_from_labelled<B: Backend>(
    model: &DreamComp<B>,
    set: &ImageSet,
    labelled: &[usize],
    device: &B::Device,
) -> Tensor<B, 1, Int> {
    let k = model.neurons();
    let m = NEAREST_LABELLED.min(labelled.len()).max(1);
    let unit = |t: Tensor<B, 2>| t.clone() / (t.square().sum_dim(1).sqrt() + 1e-12);
    let pixels = unit(model.w().slice([0..k, 0..PIXELS]));
    let (x, y) = set.gather(labelled);
    let x = unit(manifold_train::batch_tensor::<B>(
        &x,
        labelled.len(),
        PIXELS,
        device,
    ));
    let sim = pixels.matmul(x.transpose()); // K × N_l
    let (_, nearest) = sim.topk_with_indices(m, 1);
    let nearest = nearest
        .into_data()
        .convert::<i64>()
        .into_vec::<i64>()
        .expect("ints");
    let classes: Vec<i64> = nearest
        .chunks(m)
        .map(|row| {
            let mut votes = [0usize; CLASSES];
            for &i in row {
                votes[y[i as usize] as usize] += 1;
            }
            let top = *votes.iter().max().unwrap_or(&0);
            // the nearest image whose class has the most votes
            row.iter()
                .map(|&i| y[i as usize] as usize)
                .find(|&c| votes[c] == top)
                .unwrap_or(0) as i64
        })
        .collect();
    Tensor::from_data(TensorData::new(classes, [k]), device)
}
