"""An organisation (a council, a charity): it owns staff, campaigns, leaders and clips.

Every query for those rows is scoped by ``organisation_id``; nobody sees another
organisation's data.
"""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, CreatedMixin, IdMixin


class Organisation(IdMixin, CreatedMixin, Base):
    __tablename__ = "organisations"

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    slug: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)
