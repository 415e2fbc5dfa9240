//! manifold-dreamcomp
