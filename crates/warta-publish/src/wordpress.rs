//! WordPress through its REST API v2 with an Application Password.
