"""auditor: what workplace monitoring tools keep about public-service agents, read offline.

Importing it keeps glibc's allocator to one arena for the threads started afterwards (``io/allocator.py``):
the audit's workers otherwise each keep the memory of their own peak.
"""

from auditor.io.allocator import single_arena

__version__ = "0.1.0"

single_arena()
