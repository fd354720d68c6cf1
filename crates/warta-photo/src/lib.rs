//! Photo renditions for Warta.
