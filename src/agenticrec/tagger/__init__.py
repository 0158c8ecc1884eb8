"""AgenticTagger: an architect LLM and annotator LLMs build a hierarchical descriptor vocabulary for an
item corpus (`build`: Algorithm 1, `refine`: Algorithm 2), assign one descriptor per level to every item
(`assign`), and report its quality and cost (`report`). `keywords` is the free-form keyword baseline;
`api.Tagger` is the Python entry point.
"""

from agenticrec.tagger import agents as _agents  # noqa: F401  registers the architect and annotator LLM roles
from agenticrec.tagger.api import Tagger
from agenticrec.tagger.config import TaggerConfig
from agenticrec.tagger.vocabulary import Vocabulary

__all__ = ["Tagger", "TaggerConfig", "Vocabulary"]
