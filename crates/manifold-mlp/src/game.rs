//! The human-vs-machine game: a random test digit drawn in the terminal, your guess,
//! the MLP's guess, and both scores; `q` (or the end of the input) ends it.

use std::io::{BufRead, Write};

use burn::tensor::backend::Backend;
use manifold_data::ImageSet;
use manifold_train::{argmax_rows, batch_tensor};
use rand::{Rng, SeedableRng};

use crate::Mlp;

/// Plays rounds on `test` (digits drawn from `seed`) reading guesses from `input` and
/// writing to `out`. A line that is not a digit asks again.
pub fn play<B: Backend>(
    model: &Mlp<B>,
    test: &ImageSet,
    seed: u64,
    device: &B::Device,
    input: impl BufRead,
    out: &mut impl Write,
) -> std::io::Result<()> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut lines = input.lines();
    let (mut person, mut machine, mut rounds) = (0usize, 0usize, 0usize);
    writeln!(out, "Guess the digit (0-9); q quits.")?;
    loop {
        let i = rng.random_range(0..test.len());
        let truth = test.labels()[i] as usize;
        let picture = manifold_viz::terminal_image(test.image(i), test.cols());
        write!(out, "\n{picture}Your guess: ")?;
        out.flush()?;
        let guess = loop {
            let line = match lines.next() {
                Some(Ok(line)) => line,
                Some(Err(e)) if e.kind() == std::io::ErrorKind::InvalidData => String::new(),
                Some(Err(e)) => return Err(e),
                None => return finish(out, person, machine, rounds),
            };
            let t = line.trim();
            if t.eq_ignore_ascii_case("q") {
                return finish(out, person, machine, rounds);
            }
            match t.parse::<usize>() {
                Ok(g) if g < 10 => break g,
                _ => {
                    write!(out, "Type a digit 0-9, or q: ")?;
                    out.flush()?;
                }
            }
        };
        let x = batch_tensor::<B>(test.image(i), 1, test.dim(), device);
        let predicted = argmax_rows(model.forward(x))[0];
        rounds += 1;
        person += usize::from(guess == truth);
        machine += usize::from(predicted == truth);
        writeln!(
            out,
            "You: {guess}  Machine: {predicted}  Truth: {truth}   Score — you {person}/{rounds}, machine {machine}/{rounds}"
        )?;
    }
}

fn finish(
    out: &mut impl Write,
    person: usize,
    machine: usize,
    rounds: usize,
) -> std::io::Result<()> {
    writeln!(
        out,
        "\nFinal score after {rounds} digits — you {person}, machine {machine}."
    )?;
    Ok(())
}
