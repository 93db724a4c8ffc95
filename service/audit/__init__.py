"""The audit log of staff actions (model in ``service.models.audit``)."""
