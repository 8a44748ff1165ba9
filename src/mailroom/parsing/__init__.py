"""Parsing raw mail into typed values: charsets, file names, text.

Importing this package makes every GB charset label (gb2312, gbk, cp936, x-gbk,
...) decode as GB18030 process-wide; see ``mailroom.parsing.decode``.
"""

from mailroom.parsing.decode import install_codec_search

install_codec_search()
