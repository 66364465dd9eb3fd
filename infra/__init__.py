"""Infrastructure: resource template, provisioning, packaging and the local stack."""
