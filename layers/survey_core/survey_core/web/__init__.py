"""HTTP helpers of the survey pages: form parsing and security headers."""
