"""What the CRM's StructBlocks share."""

from wagtail import blocks


class CRMStructBlock(blocks.StructBlock):
    """A StructBlock that migrations name by its path rather than freezing its fields.

    A plain StructBlock deconstructs into its child blocks, copied into each page migration;
    the CRM owns these fields and their meaning, so migrations refer to the block itself (see
    ``DECONSTRUCT_ALIASES`` in each module).
    """

    def deconstruct(self):
        return blocks.Block.deconstruct(self)

    def deconstruct_with_lookup(self, lookup):
        return self.deconstruct()

    @classmethod
    def construct_from_lookup(cls, lookup, *args, **kwargs):
        return cls(*args, **kwargs)
