//! The layer's shapes as the rows loop sees them.

use crate::ir::KernelLayout;
use crate::{ChannelLayout, Spec};

/// The layer's shapes as the loop code sees them (no channel axes for plain layers).
pub(super) struct Dims {
    pub(super) channels: bool,
    pub(super) ci: usize,
    pub(super) co: usize,
    pub(super) h: usize,
    pub(super) w: usize,
    pub(super) hp: usize,
    pub(super) wp: usize,
    pub(super) khe: usize,
    pub(super) oh: usize,
    pub(super) ow: usize,
    pub(super) kh: usize,
    pub(super) kw: usize,
    pub(super) sh: usize,
    pub(super) top: usize,
    pub(super) left: usize,
}

impl Dims {
    pub(super) fn new(spec: &Spec) -> Self {
        let g = &spec.geometry;
        let ([h, w], [hp, wp], [oh, ow], [kh, kw], [top, _, left, _]) = (
            g.input(),
            g.padded_input(),
            g.output(),
            g.kernel(),
            g.pads(),
        );
        Self {
            channels: spec.layout == ChannelLayout::ChannelFirst,
            ci: g.in_channels(),
            co: g.out_channels(),
            h,
            w,
            hp,
            wp,
            khe: g.row_window().input()[0],
            oh,
            ow,
            kh,
            kw,
            sh: g.stride()[0],
            top,
            left,
        }
    }

    pub(super) fn padded(&self) -> bool {
        [self.hp, self.wp] != [self.h, self.w]
    }

    /// `[channels, rest..]`, without the channel axis for plain layers.
    pub(super) fn with(&self, channels: usize, rest: &[usize]) -> Vec<usize> {
        self.channels
            .then_some(channels)
            .into_iter()
            .chain(rest.iter().copied())
            .collect()
    }

    /// Kernel dimensions in `layout` (no channel axes for plain layers).
    pub(super) fn kernel(&self, layout: KernelLayout) -> Vec<usize> {
        let (ci, co, kh, kw) = (self.ci, self.co, self.kh, self.kw);
        match (self.channels, layout) {
            (false, _) => vec![kh, kw],
            (true, KernelLayout::Kernel) => vec![co, ci, kh, kw],
            (true, KernelLayout::OutputChannelsInner) => vec![ci, kh, kw, co],
        }
    }

    pub(super) fn bias(&self) -> Vec<usize> {
        self.channels.then_some(self.co).into_iter().collect()
    }
}
