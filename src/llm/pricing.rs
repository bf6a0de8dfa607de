//! What Claude costs: dollars per million tokens for each model, with the published figures as
//! defaults and overrides for models or prices that changed since.

use std::collections::BTreeMap;

use super::wire::Usage;

/// Dollars per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Price {
    /// Input tokens neither read from nor written to the cache.
    pub input: f64,
    /// Output tokens (thinking included).
    pub output: f64,
    /// Input tokens written to the prompt cache (the five-minute cache).
    pub cache_write: f64,
    /// Input tokens read from the prompt cache.
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

/// Prices by model id.
#[derive(Debug, Clone)]
pub struct PriceTable {
    /// Model id (or id prefix) to price.
    prices: BTreeMap<String, Price>,
}

impl PriceTable {
    /// The published prices of the current models (five-minute cache writes; Haiku 5.5 for
    /// prompts up to 100k tokens).
    pub fn published() -> Self {
        let price = |input, output, cache_write, cache_read| Price {
            input,
            output,
            cache_write,
            cache_read,
        };
        let prices = [
            ("claude-sonnet-5-5", price(2.0, 10.0, 2.5, 0.1)),
            ("claude-sonnet-5", price(2.0, 10.0, 2.5, 0.2)),
            ("claude-sonnet-4-6", price(3.0, 15.0, 3.75, 0.3)),
            ("claude-haiku-5-5", price(0.1, 0.5, 0.125, 0.01)),
            ("claude-haiku-4-5", price(1.0, 5.0, 1.25, 0.1)),
        ];
        PriceTable {
            prices: prices
                .into_iter()
                .map(|(model, price)| (model.to_owned(), price))
                .collect(),
        }
    }

    /// The table with `model` priced at `price`, replacing any price it had.
    pub fn with_override(mut self, model: &str, price: Price) -> Self {
        self.prices.insert(model.to_owned(), price);
        self
    }

    /// The price of `model`: its exact id, else the longest known id it starts with (so a
    /// dated snapshot such as `claude-sonnet-4-6-20260101` is priced as its model).
    pub fn price(&self, model: &str) -> Option<Price> {
        if let Some(price) = self.prices.get(model) {
            return Some(*price);
        }
        self.prices
            .iter()
            .filter(|(known, _)| model.starts_with(known.as_str()))
            .max_by_key(|(known, _)| known.len())
            .map(|(_, price)| *price)
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
    fn a_cost_adds_each_kind_of_token_at_its_own_price() {
        let sonnet = PriceTable::published().price("claude-sonnet-4-6").unwrap();
        // 1M input at $3, 100k output at $15, 200k written at $3.75, 2M read at $0.30.
        let cost = sonnet.cost(&usage(1_000_000, 100_000, 200_000, 2_000_000));
        assert!((cost - (3.0 + 1.5 + 0.75 + 0.6)).abs() < 1e-9, "{cost}");
        assert_eq!(sonnet.cost(&Usage::default()), 0.0);
    }

    #[test]
    fn a_dated_model_id_takes_the_price_of_the_longest_known_prefix() {
        let table = PriceTable::published();
        let sonnet_5 = table.price("claude-sonnet-5").unwrap();
        let sonnet_5_5 = table.price("claude-sonnet-5-5").unwrap();
        assert_ne!(sonnet_5, sonnet_5_5);
        assert_eq!(table.price("claude-sonnet-5-5-20260928"), Some(sonnet_5_5));
        assert_eq!(table.price("claude-sonnet-5-20260630"), Some(sonnet_5));
        assert_eq!(table.price("claude-opus-9"), None);
    }

    #[test]
    fn an_override_prices_a_new_model_and_replaces_a_published_price() {
        let custom = Price {
            input: 1.0,
            output: 2.0,
            cache_write: 3.0,
            cache_read: 4.0,
        };
        let table = PriceTable::published()
            .with_override("claude-opus-9", custom)
            .with_override("claude-sonnet-4-6", custom);
        assert_eq!(table.price("claude-opus-9-20270101"), Some(custom));
        assert_eq!(table.price("claude-sonnet-4-6"), Some(custom));
        assert_ne!(table.price("claude-haiku-4-5"), Some(custom));
    }
}
