//! Sums of products stored compactly: one list of products per result element.

/// One product of two flat element positions; what they index depends on the sum
/// (see [`Derivation`](super::Derivation)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Product(pub u32, pub u32);

/// For each result element, the products summed into it (compressed rows).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sums {
    starts: Vec<usize>,
    products: Vec<Product>,
}

impl Sums {
    /// Builds from per-element lists, in element order.
    pub(crate) fn from_lists(lists: Vec<Vec<Product>>) -> Self {
        let mut starts = Vec::with_capacity(lists.len() + 1);
        let mut products = Vec::with_capacity(lists.iter().map(Vec::len).sum());
        starts.push(0);
        for list in lists {
            products.extend(list);
            starts.push(products.len());
        }
        Self { starts, products }
    }

    /// Number of result elements.
    pub fn len(&self) -> usize {
        self.starts.len() - 1
    }

    /// Whether there are no result elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Products summed into element `i` (empty when out of range).
    pub fn get(&self, i: usize) -> &[Product] {
        match (self.starts.get(i), self.starts.get(i + 1)) {
            (Some(&s), Some(&e)) => &self.products[s..e],
            _ => &[],
        }
    }

    /// Every element's products, in element order.
    pub fn iter(&self) -> impl Iterator<Item = &[Product]> + '_ {
        self.starts.windows(2).map(|w| &self.products[w[0]..w[1]])
    }

    /// Drops the last product of element `i` (tests only: a planted fault).
    #[cfg(any(test, feature = "codegen"))]
    pub(crate) fn drop_last(&mut self, i: usize) {
        if let (Some(&start), Some(&end)) = (self.starts.get(i), self.starts.get(i + 1)) {
            if end > start {
                self.products.remove(end - 1);
                for s in &mut self.starts[i + 1..] {
                    *s -= 1;
                }
            }
        }
    }

    /// Total number of products.
    pub fn terms(&self) -> usize {
        self.products.len()
    }
}
