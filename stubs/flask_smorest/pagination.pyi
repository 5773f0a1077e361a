# flask_smorest.pagination (0.47) as tongban uses it: the page parameters @blp.paginate
# injects and its pager for lists.
from collections.abc import Sequence
from typing import Generic, TypeVar

_Item = TypeVar("_Item")

class PaginationParameters:
    page: int
    page_size: int
    item_count: int | None
    def __init__(self, page: int, page_size: int) -> None: ...
    @property
    def first_item(self) -> int: ...
    @property
    def last_item(self) -> int: ...

class Page(Generic[_Item]):
    collection: Sequence[_Item]
    page_params: PaginationParameters
    def __init__(self, collection: Sequence[_Item], page_params: PaginationParameters) -> None: ...
    @property
    def items(self) -> list[_Item]: ...
    @property
    def item_count(self) -> int: ...
