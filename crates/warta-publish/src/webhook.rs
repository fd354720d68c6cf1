//! Webhooks for in-house CMSs: a signed JSON POST per publish.
