//! manifold-set
