//! What tokens cost: the published prices per model, overridable by `CLAUDE_PRICES` so a price
//! change needs no release.

use std::str::FromStr;

use super::wire::Usage;

/// Dollars per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Price {
    /// Uncached input tokens.
    pub input: f64,
    /// Output tokens (thinking included).
    pub output: f64,
    /// Input tokens written to the five-minute cache.
    pub cache_write: f64,
    /// Input tokens read from the cache.
    pub cache_read: f64,
}

impl Price {
    /// The dollars `usage` costs at this price.
    pub fn cost(&self, usage: &Usage) -> f64 {
        (usage.input_tokens as f64 * self.input
            + usage.output_tokens as f64 * self.output
            + usage.cache_creation_input_tokens as f64 * self.cache_write
            + usage.cache_read_input_tokens as f64 * self.cache_read)
            / 1_000_000.0
    }
}

/// Why a price could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PriceError(String);

impl FromStr for Price {
    type Err = PriceError;

    /// Reads `input/output/cache_write/cache_read`, such as `2/10/2.5/0.1`.
    fn from_str(s: &str) -> Result<Self, PriceError> {
        let numbers: Vec<f64> = s
            .split('/')
            .map(|part| {
                part.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|n| n.is_finite() && *n >= 0.0)
            })
            .collect::<Option<_>>()
            .ok_or_else(|| PriceError(format!("{s:?} holds something other than a price")))?;
        match numbers.as_slice() {
            [input, output, cache_write, cache_read] => Ok(Price {
                input: *input,
                output: *output,
                cache_write: *cache_write,
                cache_read: *cache_read,
            }),
            _ => Err(PriceError(format!(
                "{s:?} is not four prices (input/output/cache_write/cache_read)"
            ))),
        }
    }
}

/// The per-model price table: published defaults, overridable by settings.
#[derive(Debug, Clone)]
pub struct PriceTable {
    /// Model ids and their prices; a later entry for the same id wins.
    entries: Vec<(String, Price)>,
}

/// Published prices (input, output, five-minute cache write, cache read), November 2026.
///
/// Opus 5.5 and Fable 5.2 are published with input and output prices only; their cache prices
/// here are derived with the usual multipliers (a five-minute write at 1.25 times the input
/// price, a read at a tenth of it) and are estimates until published: override them with
/// `CLAUDE_PRICES` when they are. Sonnet 4.5 (`claude-sonnet-4-5-20250929`) was retired on
/// 2026-11-30 and has no price: the API no longer serves it.
const PUBLISHED: [(&str, Price); 7] = [
    (
        "claude-sonnet-5-5",
        Price {
            input: 2.0,
            output: 10.0,
            cache_write: 2.5,
            cache_read: 0.10,
        },
    ),
    (
        "claude-sonnet-5",
        Price {
            input: 2.0,
            output: 10.0,
            cache_write: 2.5,
            cache_read: 0.20,
        },
    ),
    (
        "claude-sonnet-4-6",
        Price {
            input: 3.0,
            output: 15.0,
            cache_write: 3.75,
            cache_read: 0.30,
        },
    ),
    (
        // Prompts up to 100k tokens; the interview's stay far below.
        "claude-haiku-5-5",
        Price {
            input: 0.10,
            output: 0.50,
            cache_write: 0.125,
            cache_read: 0.01,
        },
    ),
    (
        "claude-haiku-4-5",
        Price {
            input: 1.0,
            output: 5.0,
            cache_write: 1.25,
            cache_read: 0.10,
        },
    ),
    (
        // Cache prices derived (see above).
        "claude-opus-5-5",
        Price {
            input: 4.0,
            output: 20.0,
            cache_write: 5.0,
            cache_read: 0.40,
        },
    ),
    (
        // Fable 5.2 (2026-11-09); cache prices derived (see above).
        "claude-fable-5-2",
        Price {
            input: 8.0,
            output: 40.0,
            cache_write: 10.0,
            cache_read: 0.80,
        },
    ),
];

impl PriceTable {
    /// The current published prices (five-minute cache writes).
    pub fn published() -> Self {
        PriceTable {
            entries: PUBLISHED
                .iter()
                .map(|(model, price)| ((*model).to_owned(), *price))
                .collect(),
        }
    }

    /// The table with `model` priced at `price`, replacing any price it had.
    pub fn with_override(mut self, model: &str, price: Price) -> Self {
        self.entries.retain(|(known, _)| known != model);
        self.entries.push((model.to_owned(), price));
        self
    }

    /// The price of `model`: its own entry, else the longest known id the model id starts with
    /// (so a dated id such as `claude-sonnet-5-5-20260928` takes its model's price).
    pub fn price(&self, model: &str) -> Option<Price> {
        if let Some((_, price)) = self.entries.iter().find(|(known, _)| known == model) {
            return Some(*price);
        }
        self.entries
            .iter()
            .filter(|(known, _)| model.starts_with(known.as_str()))
            .max_by_key(|(known, _)| known.len())
            .map(|(_, price)| *price)
    }

    /// Reads overrides in the `CLAUDE_PRICES` form: `model=input/output/write/read`, separated
    /// by `;` (or new lines), such as `claude-sonnet-5-5=2/10/2.5/0.1;my-model=1/5/1.25/0.1`.
    pub fn parse_overrides(text: &str) -> Result<Vec<(String, Price)>, PriceError> {
        text.split([';', '\n'])
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                let (model, price) = entry.split_once('=').ok_or_else(|| {
                    PriceError(format!("{entry:?} is not model=input/output/write/read"))
                })?;
                let model = model.trim();
                if model.is_empty() || model.contains(char::is_whitespace) {
                    return Err(PriceError(format!("{entry:?} names no model id")));
                }
                Ok((model.to_owned(), price.parse()?))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(input: u64, output: u64, write: u64, read: u64) -> Usage {
        Usage {
            input_tokens: input,
            output_tokens: output,
            cache_creation_input_tokens: write,
            cache_read_input_tokens: read,
        }
    }

    #[test]
    fn a_cost_adds_the_four_kinds_of_tokens_at_their_prices() {
        let price = PriceTable::published().price("claude-sonnet-5-5").unwrap();
        let cost = price.cost(&usage(1_000_000, 100_000, 200_000, 2_000_000));
        // 2 + 1 + 0.5 + 0.2
        assert!((cost - 3.7).abs() < 1e-9, "{cost}");
    }

    #[test]
    fn dated_ids_take_the_longest_matching_price() {
        let table = PriceTable::published();
        assert_eq!(
            table
                .price("claude-sonnet-5-5-20260928")
                .unwrap()
                .cache_read,
            0.10
        );
        assert_eq!(
            table.price("claude-sonnet-5-20260630").unwrap().cache_read,
            0.20
        );
        assert_eq!(table.price("claude-sonnet-4-6").unwrap().input, 3.0);
        assert_eq!(table.price("claude-haiku-5-5").unwrap().output, 0.50);
        assert_eq!(table.price("claude-opus-5-5").unwrap().output, 20.0);
        let fable = table.price("claude-fable-5-2-20261109").unwrap();
        assert_eq!((fable.input, fable.output), (8.0, 40.0));
        assert_eq!(
            (fable.cache_write, fable.cache_read),
            (10.0, 0.80),
            "derived: 1.25x and 0.1x the input price"
        );
        assert_eq!(
            table.price("claude-sonnet-4-5-20250929"),
            None,
            "retired on 2026-11-30"
        );
        assert_eq!(table.price("claude"), None);
    }

    #[test]
    fn an_override_replaces_or_adds_a_price() {
        let cheap = Price {
            input: 1.0,
            output: 2.0,
            cache_write: 1.25,
            cache_read: 0.05,
        };
        let table = PriceTable::published()
            .with_override("claude-sonnet-5-5", cheap)
            .with_override("my-proxy-model", cheap);
        assert_eq!(table.price("claude-sonnet-5-5-20260928"), Some(cheap));
        assert_eq!(table.price("my-proxy-model"), Some(cheap));
        assert_eq!(table.price("claude-sonnet-5").unwrap().input, 2.0);
    }

    #[test]
    fn overrides_parse_from_the_settings_form_and_refuse_anything_else() {
        let parsed = PriceTable::parse_overrides(
            "claude-sonnet-5-5=2/10/2.5/0.1; other-model = 1/5/1.25/0.1;",
        )
        .unwrap();
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[1].0, "other-model");
        assert_eq!(parsed[1].1.cache_write, 1.25);
        for bad in [
            "claude-sonnet-5-5",
            "claude-sonnet-5-5=2/10/2.5",
            "claude-sonnet-5-5=2/10/x/0.1",
            "=2/10/2.5/0.1",
            "claude-sonnet-5-5=2/10/2.5/-1",
        ] {
            assert!(PriceTable::parse_overrides(bad).is_err(), "{bad}");
        }
    }
}
