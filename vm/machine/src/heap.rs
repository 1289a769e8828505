//! The heap: an arena of objects with stable ids, and a precise mark-and-sweep garbage collector.
//!
//! An object's id is its index in the arena and never changes while the object lives: that is what lets
//! a checkpoint name objects, and it is why the collector does not move anything. Freed slots go on a
//! free list and are reused. Collection is only ever started by the interpreter at a safepoint, where
//! every live value is reachable from the roots it passes in; native procedures may allocate freely
//! without rooting their temporaries.
//!
//! The heap also keeps the write barrier of incremental checkpoints: every way to change an object
//! ([`Heap::alloc`], [`Heap::get_mut`], collection) marks the object's page dirty, and a checkpoint
//! writes only the dirty pages (the durable layer's snapshots).

use num_bigint::BigInt;

use crate::ports::Port;
use crate::scheme_string::SchemeString;
use crate::value::{ObjId, Value};

/// A heap object.
#[derive(Debug)]
pub enum Object {
    /// A free slot; the payload is the next free slot, if any.
    Free(Option<ObjId>),
    /// A pair: its car and cdr.
    Pair(Value, Value),
    /// A mutable cell holding an assigned, captured variable.
    Box(Value),
    /// A procedure: a function of a loaded image and the values of its free variables.
    Closure {
        /// The function's process-wide index.
        function: u32,
        /// The values of its free variables.
        free: Box<[Value]>,
    },
    /// Strings, vectors and bytevectors never change length: boxed slices keep an object in
    /// 24 bytes (a `Vec` would make every object 32).
    String(SchemeString),
    /// A vector.
    Vector(Box<[Value]>),
    /// A bytevector.
    Bytevector(Box<[u8]>),
    /// An exact integer beyond the fixnums.
    Bignum(Box<BigInt>),
    /// An exact ratio whose denominator is not 1.
    Ratnum(Box<num_rational::BigRational>),
    /// An inexact real.
    Flonum(f64),
    /// An error object: a message, a list of irritants, and what kind of error it is.
    Condition(Box<Condition>),
    /// A port.
    Port(Box<Port>),
    /// A continuation captured by `call/cc`: copies of the value stack and the frames.
    Continuation(Box<Continuation>),
    /// Several values returned at once by `values` (one value is never wrapped).
    Values(Box<[Value]>),
    /// A record type made by `define-record-type`.
    RecordType(Box<RecordType>),
    /// A hash table (SRFI 69).
    HashTable(Box<crate::hash_table::HashTable>),
    /// An instance of a record type.
    Record {
        /// The object id of the record's type, a [`Object::RecordType`] (an id, not a
        /// [`Value`], keeps a record in 24 bytes).
        record_type: ObjId,
        /// The field values, in the type's order.
        fields: Box<[Value]>,
    },
}

// Every object takes one arena slot: keep the slot small.
const _: () = assert!(std::mem::size_of::<Object>() == 24);

/// One call in progress on the interpreter's stack, as a continuation keeps it.
#[derive(Clone, Copy, Debug)]
pub struct Frame {
    /// The function running, by process-wide index.
    pub function: u32,
    /// The next instruction (saved while the frame waits for a callee).
    pub pc: u32,
    /// Stack index of local 0; the closure sits just below.
    pub base: u32,
}

/// What `call/cc` captured: the value stack and the frames at that point.
#[derive(Debug, Clone)]
pub struct Continuation {
    /// The value stack.
    pub stack: Vec<Value>,
    /// The calls in progress, innermost last.
    pub frames: Vec<Frame>,
}

/// A record type: its name and its fields.
#[derive(Debug, Clone)]
pub struct RecordType {
    /// The name `define-record-type` gave it.
    pub name: String,
    /// Field names, as symbols.
    pub fields: Vec<Value>,
}

/// An error object.
#[derive(Debug, Clone)]
pub struct Condition {
    /// What kind of error it is.
    pub kind: ConditionKind,
    /// The message.
    pub message: String,
    /// The irritants, as a list.
    pub irritants: Value,
}

/// What kind of error a condition is (what `error-object?`, `file-error?`, `read-error?` see).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConditionKind {
    /// Raised by the program with `error`.
    Error,
    /// Raised by the VM: a wrong use of a procedure, an unbound variable, a wrong argument count.
    Runtime,
    /// A file could not be opened (R7RS `file-error?`).
    File,
    /// Bad syntax given to `read` (R7RS `read-error?`).
    Read,
}

impl Object {
    /// An estimate of the memory the object holds, for deciding when to collect.
    fn footprint(&self) -> usize {
        std::mem::size_of::<Object>()
            + match self {
                Object::Closure { free, .. } => boxed(free.len() * 8),
                // Lengths, not capacities: a restored heap must estimate exactly what the original
                // did, so that collections happen at the same points and object ids stay the same.
                Object::String(s) => boxed(s.byte_size()),
                Object::Vector(v) => boxed(v.len() * 8),
                Object::Bytevector(b) => boxed(b.len()),
                Object::Bignum(n) => 32 + (n.bits() as usize).div_ceil(8),
                Object::Ratnum(r) => 64 + ((r.numer().bits() + r.denom().bits()) as usize).div_ceil(8),
                Object::Condition(c) => 48 + c.message.len(),
                Object::Port(_) => 64,
                Object::Continuation(k) => k.stack.len() * 8 + k.frames.len() * 12,
                Object::Values(v) => v.len() * 8,
                Object::HashTable(t) => 64 + t.count() * 40,
                Object::RecordType(t) => t.fields.len() * 8 + t.name.len(),
                Object::Record { fields, .. } => boxed(fields.len() * 8),
                _ => 0,
            }
    }

    /// Calls `visit` with every value this object refers to.
    pub fn for_each_reference(&self, mut visit: impl FnMut(Value)) {
        match self {
            Object::Pair(car, cdr) => {
                visit(*car);
                visit(*cdr);
            }
            Object::Box(v) => visit(*v),
            Object::Closure { free, .. } => free.iter().copied().for_each(visit),
            Object::Vector(items) => items.iter().copied().for_each(visit),
            Object::Condition(c) => visit(c.irritants),
            Object::Continuation(k) => k.stack.iter().copied().for_each(visit),
            Object::Values(values) => values.iter().copied().for_each(visit),
            Object::HashTable(t) => t.entries().for_each(|(k, v)| {
                visit(k);
                visit(v);
            }),
            Object::RecordType(t) => t.fields.iter().copied().for_each(visit),
            Object::Record { record_type, fields } => {
                visit(Value::object(*record_type));
                fields.iter().copied().for_each(visit);
            }
            Object::Free(_)
            | Object::String(_)
            | Object::Bytevector(_)
            | Object::Bignum(_)
            | Object::Ratnum(_)
            | Object::Flonum(_)
            | Object::Port(_) => {}
        }
    }
}

/// What a separate allocation of `n` bytes holds in the allocator: nothing for an empty one, else
/// `n` and an 8-byte header rounded up to 16, at least 32 (glibc's chunks; other allocators are
/// alike). A 9-character string holds 24 + 32 bytes, not 24 + 9: the allowance counts that.
const fn boxed(n: usize) -> usize {
    if n == 0 {
        0
    } else {
        let chunk = (n + 8).div_ceil(16) * 16;
        if chunk < 32 { 32 } else { chunk }
    }
}

/// The smallest allocation volume between two collections. Above it, a collection starts once
/// half the live size has been allocated: the heap peaks near 1.5 times what is live, at the cost
/// of marking the live heap once per half of it allocated (with the whole live size as the
/// allowance, and 32 MB, peak memory was about twice Guile's on list-heavy programs).
const MIN_COLLECTION_BYTES: usize = 8 << 20;

/// Objects per page: the unit a checkpoint writes. Object `id` lives in page `id / OBJECTS_PER_PAGE`.
pub const OBJECTS_PER_PAGE: usize = 64;

/// What a heap counts, beyond its objects: kept by snapshots, so that a restored heap collects
/// at the same points as the original.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeapCounters {
    /// How many slots hold live objects.
    pub live_objects: usize,
    /// Bytes allocated since the last collection.
    pub allocated: usize,
    /// Bytes found live by the last collection.
    pub live_bytes: usize,
    /// Collections so far.
    pub collections: u64,
}

/// The heap: an arena of objects with stable ids, the write barrier's dirty pages, and the
/// collector.
pub struct Heap {
    /// Every slot, live or free, by object id (snapshots store them page by page).
    pub(crate) objects: Vec<Object>,
    marks: Vec<u64>,
    /// One bit per page: set when an object of the page changed since the last checkpoint.
    dirty: Vec<u64>,
    /// The first free slot, if any.
    pub(crate) free_list: Option<ObjId>,
    /// How many slots hold live objects.
    pub(crate) live_objects: usize,
    /// Bytes allocated since the last collection.
    pub(crate) allocated: usize,
    /// Bytes found live by the last collection (set with [`Heap::set_live_bytes`]).
    live_bytes: usize,
    /// What may be allocated before the next collection: derived from `live_bytes`.
    collection_allowance: usize,
    pub(crate) collections: u64,
    /// Work done on the heap since the interpreter last counted a step, for the step limit:
    /// steps charged by natives whose work grows with their data, and bytes allocated.
    charged_steps: std::cell::Cell<u64>,
    allocated_for_work: u64,
}

impl Default for Heap {
    fn default() -> Heap {
        Heap::new()
    }
}

impl Heap {
    /// An empty heap.
    pub fn new() -> Heap {
        Heap {
            objects: Vec::new(),
            marks: Vec::new(),
            dirty: Vec::new(),
            free_list: None,
            live_objects: 0,
            allocated: 0,
            live_bytes: 0,
            collection_allowance: MIN_COLLECTION_BYTES,
            collections: 0,
            charged_steps: std::cell::Cell::new(0),
            allocated_for_work: 0,
        }
    }

    /// Charges `steps` of work to the running program (see [`crate::runtime::Limits::max_steps`]):
    /// natives call it for work that grows with their data, so that a program cannot spend
    /// minutes inside a few steps.
    pub fn charge(&self, steps: u64) {
        self.charged_steps.set(self.charged_steps.get().saturating_add(steps));
    }

    /// Whether any work was charged or allocated since the last [`Heap::take_work`].
    #[inline(always)]
    pub fn has_work(&self) -> bool {
        self.charged_steps.get() | self.allocated_for_work != 0
    }

    /// The steps charged since the last call, allocation included (a step per 64 bytes begun).
    /// The interpreter adds them to its count at every call and backward jump.
    pub fn take_work(&mut self) -> u64 {
        let bytes = std::mem::take(&mut self.allocated_for_work);
        self.charged_steps.take().saturating_add(bytes.div_ceil(64))
    }

    /// Allocates `object`, reusing a free slot if there is one (its page is marked dirty).
    pub fn alloc(&mut self, object: Object) -> Value {
        let footprint = object.footprint();
        self.alloc_sized(object, footprint)
    }

    /// [`Heap::alloc`] of an object whose footprint is known.
    #[inline(always)]
    fn alloc_sized(&mut self, object: Object, footprint: usize) -> Value {
        self.allocated += footprint;
        self.allocated_for_work += footprint as u64;
        self.live_objects += 1;
        let id = match self.free_list {
            Some(id) => {
                let slot = &mut self.objects[id as usize];
                let Object::Free(next) = *slot else { unreachable!("the free list holds only free slots") };
                self.free_list = next;
                // A free slot owns nothing: forgotten, not dropped (no call of the drop glue).
                std::mem::forget(std::mem::replace(slot, object));
                id
            }
            None => {
                self.objects.push(object);
                (self.objects.len() - 1) as ObjId
            }
        };
        self.mark_dirty(id);
        Value::object(id)
    }

    /// The write barrier: object `id` changed, so its page must be written at the next checkpoint.
    #[inline]
    fn mark_dirty(&mut self, id: ObjId) {
        mark_page_dirty(&mut self.dirty, id as usize);
    }

    /// Whether page `page` changed since the last [`Heap::clear_dirty`].
    pub fn page_is_dirty(&self, page: usize) -> bool {
        self.dirty.get(page / 64).is_some_and(|w| w & (1 << (page % 64)) != 0)
    }

    /// How many pages changed since the last [`Heap::clear_dirty`].
    pub fn dirty_page_count(&self) -> usize {
        self.dirty.iter().map(|word| word.count_ones() as usize).sum()
    }

    /// Forgets which pages changed (a checkpoint has written them).
    pub fn clear_dirty(&mut self) {
        self.dirty.clear();
    }

    /// Pages in the arena: `ceil(arena_len / OBJECTS_PER_PAGE)`.
    pub fn page_count(&self) -> usize {
        self.objects.len().div_ceil(OBJECTS_PER_PAGE)
    }

    /// The slots of page `page`, free ones included.
    pub fn page(&self, page: usize) -> &[Object] {
        let start = (page * OBJECTS_PER_PAGE).min(self.objects.len());
        let end = (start + OBJECTS_PER_PAGE).min(self.objects.len());
        &self.objects[start..end]
    }

    /// The slots of page `page`, for flushing the file ports it holds before it is written.
    pub fn page_mut(&mut self, page: usize) -> &mut [Object] {
        let start = (page * OBJECTS_PER_PAGE).min(self.objects.len());
        let end = (start + OBJECTS_PER_PAGE).min(self.objects.len());
        &mut self.objects[start..end]
    }

    /// The object `v` refers to, if `v` is a live object reference.
    pub fn get(&self, v: Value) -> Option<&Object> {
        v.as_object().and_then(|id| self.objects.get(id as usize)).filter(|o| !matches!(o, Object::Free(_)))
    }

    /// The object `v` refers to, for changing it: marks its page dirty.
    pub fn get_mut(&mut self, v: Value) -> Option<&mut Object> {
        let id = v.as_object()?;
        if matches!(self.objects.get(id as usize)?, Object::Free(_)) {
            return None;
        }
        self.mark_dirty(id);
        self.objects.get_mut(id as usize)
    }

    /// A new pair: the most frequent allocation, with its footprint known.
    #[inline]
    pub fn cons(&mut self, car: Value, cdr: Value) -> Value {
        self.alloc_sized(Object::Pair(car, cdr), std::mem::size_of::<Object>())
    }

    /// Item `k` of `v`, if `v` is a vector and `k` an index in it (the interpreter's fast path;
    /// anything else goes to `vector-ref`, which reports it).
    #[inline]
    pub fn vector_item(&self, v: Value, k: Value) -> Option<Value> {
        let k = usize::try_from(k.as_fixnum()?).ok()?;
        match v.as_object().and_then(|id| self.objects.get(id as usize)) {
            Some(Object::Vector(items)) => items.get(k).copied(),
            _ => None,
        }
    }

    /// Sets item `k` of `v` to `x` and marks its page dirty, if `v` is a vector and `k` an index
    /// in it; otherwise changes nothing and says so (`vector-set!` then reports why).
    #[inline]
    pub fn set_vector_item(&mut self, v: Value, k: Value, x: Value) -> bool {
        let (Some(id), Some(k)) = (v.as_object(), k.as_fixnum().and_then(|k| usize::try_from(k).ok())) else {
            return false;
        };
        match self.objects.get_mut(id as usize) {
            Some(Object::Vector(items)) if k < items.len() => items[k] = x,
            _ => return false,
        }
        self.mark_dirty(id);
        true
    }

    /// The function index of `v`, if it is a closure.
    #[inline]
    pub fn closure_function(&self, v: Value) -> Option<u32> {
        match v.as_object().and_then(|id| self.objects.get(id as usize)) {
            Some(Object::Closure { function, .. }) => Some(*function),
            _ => None,
        }
    }

    /// The car and cdr of `v`, if it is a pair (a free slot is no pair, so no check for one).
    #[inline]
    pub fn pair(&self, v: Value) -> Option<(Value, Value)> {
        match v.as_object().and_then(|id| self.objects.get(id as usize)) {
            Some(Object::Pair(car, cdr)) => Some((*car, *cdr)),
            _ => None,
        }
    }

    /// A proper list of `items`.
    pub fn list(&mut self, items: impl DoubleEndedIterator<Item = Value>) -> Value {
        items.rev().fold(Value::NIL, |tail, item| self.cons(item, tail))
    }

    /// The items of a proper list, or `None` for an improper or circular one.
    pub fn list_items(&self, mut list: Value) -> Option<Vec<Value>> {
        let mut items = Vec::new();
        while list != Value::NIL {
            let (car, cdr) = self.pair(list)?;
            items.push(car);
            list = cdr;
            if items.len() > self.objects.len() {
                return None;
            }
        }
        self.charge(items.len() as u64);
        Some(items)
    }

    /// The pairs of the spine of `list` as (pair, car, cdr), at most as many as the heap has
    /// objects (more would mean a cycle); the walk is charged as a step per pair when it ends.
    /// What list procedures like `memq` and `list-tail` walk.
    pub fn spine(&self, list: Value) -> Spine<'_> {
        Spine { heap: self, next: list, budget: self.objects.len() + 1, walked: 0 }
    }

    /// Bytes allocated since the last collection.
    pub fn allocated_since_collection(&self) -> usize {
        self.allocated
    }

    /// Whether enough has been allocated since the last collection to collect again.
    #[inline(always)]
    pub fn wants_collection(&self) -> bool {
        self.allocated > self.collection_allowance
    }

    /// Records what a collection found live, and so when the next one comes.
    pub fn set_live_bytes(&mut self, live_bytes: usize) {
        self.live_bytes = live_bytes;
        self.collection_allowance = MIN_COLLECTION_BYTES.max(live_bytes / 2);
    }

    /// How many slots hold live objects.
    pub fn object_count(&self) -> usize {
        self.live_objects
    }

    /// Bytes found live by the last collection plus bytes allocated since: an upper estimate of the
    /// heap in use.
    pub fn bytes_in_use(&self) -> usize {
        self.live_bytes + self.allocated
    }

    /// Bytes found live by the last collection.
    pub fn live_bytes(&self) -> usize {
        self.live_bytes
    }

    /// Slots in the arena, live or free: the heap's size in objects.
    pub fn arena_len(&self) -> usize {
        self.objects.len()
    }

    /// A heap of `objects` (free slots included), going on from `counters`; the free list is
    /// relinked. For [`crate::state::HeapBuilder`], which checks the objects first.
    pub(crate) fn from_objects(objects: Vec<Object>, counters: HeapCounters) -> Heap {
        let mut heap = Heap { objects, ..Heap::new() };
        heap.relink_free_slots();
        heap.live_objects = counters.live_objects;
        heap.allocated = counters.allocated;
        heap.set_live_bytes(counters.live_bytes);
        heap.collections = counters.collections;
        heap
    }

    /// The counters a snapshot keeps, so that a restored heap collects when this one would.
    pub fn counters(&self) -> HeapCounters {
        HeapCounters {
            live_objects: self.live_objects,
            allocated: self.allocated,
            live_bytes: self.live_bytes,
            collections: self.collections,
        }
    }

    /// Links every free slot into the free list, in ascending order. The free list is always the
    /// ascending list of all free slots (allocation takes its head), so the links carry no
    /// information a snapshot needs to keep: it stores free slots without them and relinks them.
    pub fn relink_free_slots(&mut self) {
        self.free_list = None;
        for id in (0..self.objects.len()).rev() {
            if let Object::Free(next) = &mut self.objects[id] {
                *next = self.free_list;
                self.free_list = Some(id as ObjId);
            }
        }
    }

    /// Frees every object not reachable from `roots`.
    pub fn collect(&mut self, roots: impl Iterator<Item = Value>) {
        self.collections += 1;
        self.marks.clear();
        self.marks.resize(self.objects.len().div_ceil(64), 0);
        let mut stack: Vec<ObjId> = Vec::new();
        let mark = |marks: &mut Vec<u64>, stack: &mut Vec<ObjId>, v: Value| {
            if let Some(id) = v.as_object() {
                let (word, bit) = (id as usize / 64, id % 64);
                if let Some(w) = marks.get_mut(word)
                    && *w & (1 << bit) == 0
                {
                    *w |= 1 << bit;
                    stack.push(id);
                }
            }
        };
        for root in roots {
            mark(&mut self.marks, &mut stack, root);
        }
        while let Some(id) = stack.pop() {
            let marks = &mut self.marks;
            self.objects[id as usize].for_each_reference(|v| mark(marks, &mut stack, v));
        }
        let mut live_bytes = 0;
        let mut live_objects = 0;
        // The dirty bits of every page, so that marking one in the loop needs no growth check.
        let pages = self.objects.len().div_ceil(OBJECTS_PER_PAGE);
        if self.dirty.len() < pages.div_ceil(64) {
            self.dirty.resize(pages.div_ceil(64), 0);
        }
        for (id, object) in self.objects.iter_mut().enumerate().rev() {
            match object {
                Object::Free(_) => {}
                _ if self.marks[id / 64] & (1 << (id % 64)) != 0 => {
                    live_bytes += object.footprint();
                    live_objects += 1;
                }
                // The most common dead objects own nothing: forgetting them leaks nothing and
                // saves a call of the drop glue per object.
                Object::Pair(..) | Object::Box(_) | Object::Flonum(_) => {
                    std::mem::forget(std::mem::replace(object, Object::Free(None)));
                    mark_page_dirty(&mut self.dirty, id);
                }
                _ => {
                    drop(std::mem::replace(object, Object::Free(None)));
                    mark_page_dirty(&mut self.dirty, id);
                }
            }
        }
        // Rebuild the free list in ascending order so that new objects fill the low slots first, and
        // give back the memory of a free tail.
        let arena_len = self.objects.len();
        while matches!(self.objects.last(), Some(Object::Free(_))) {
            self.objects.pop();
        }
        // The page the arena now ends in lost slots (which may have been free before this
        // collection, so nothing marked it): its stored form changes.
        if self.objects.len() < arena_len && !self.objects.is_empty() {
            mark_page_dirty(&mut self.dirty, self.objects.len() - 1);
        }
        self.objects.shrink_to(self.objects.len() * 2);
        self.relink_free_slots();
        self.set_live_bytes(live_bytes);
        self.live_objects = live_objects;
        self.allocated = 0;
    }
}

/// Sets the dirty bit of the page holding object `id`.
#[inline]
fn mark_page_dirty(dirty: &mut Vec<u64>, id: usize) {
    let page = id / OBJECTS_PER_PAGE;
    let (word, bit) = (page / 64, page % 64);
    if word >= dirty.len() {
        dirty.resize(word + 1, 0);
    }
    dirty[word] |= 1 << bit;
}

/// An iterator over the pairs of a list's spine (see [`Heap::spine`]).
pub struct Spine<'a> {
    heap: &'a Heap,
    next: Value,
    budget: usize,
    walked: u64,
}

impl Iterator for Spine<'_> {
    type Item = (Value, Value, Value);

    fn next(&mut self) -> Option<(Value, Value, Value)> {
        if self.budget == 0 {
            return None;
        }
        let pair = self.next;
        let (car, cdr) = self.heap.pair(pair)?;
        self.budget -= 1;
        self.walked += 1;
        self.next = cdr;
        Some((pair, car, cdr))
    }
}

impl Drop for Spine<'_> {
    fn drop(&mut self) {
        self.heap.charge(self.walked);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_object_counts_what_its_separate_allocation_holds() {
        assert_eq!(boxed(0), 0);
        assert_eq!(boxed(1), 32);
        assert_eq!(boxed(24), 32);
        assert_eq!(boxed(25), 48);
        assert_eq!(boxed(8_000_000), 8_000_016);
        let mut heap = Heap::new();
        heap.alloc(Object::String(SchemeString::from_text("key-1a2b3")));
        assert_eq!(heap.allocated, 24 + 32);
        heap.alloc(Object::Vector(Box::new([])));
        assert_eq!(heap.allocated, 24 + 32 + 24);
    }

    #[test]
    fn dirty_pages_are_counted_until_cleared() {
        let mut heap = Heap::new();
        assert_eq!(heap.dirty_page_count(), 0);
        let first = heap.cons(Value::small(1), Value::NIL);
        for i in 0..OBJECTS_PER_PAGE * 64 * 2 {
            heap.cons(Value::small(i), Value::NIL);
        }
        // 129 pages and a bit: the count crosses words of the bitset.
        assert_eq!(heap.dirty_page_count(), heap.page_count());
        assert_eq!(heap.page_count(), 129);
        heap.clear_dirty();
        assert_eq!(heap.dirty_page_count(), 0);
        heap.get_mut(first);
        assert_eq!(heap.dirty_page_count(), 1);
    }

    #[test]
    fn cons_counts_what_allocating_a_pair_counts() {
        let (mut by_cons, mut by_alloc) = (Heap::new(), Heap::new());
        by_cons.cons(Value::small(1), Value::NIL);
        by_alloc.alloc(Object::Pair(Value::small(1), Value::NIL));
        assert_eq!(by_cons.allocated, by_alloc.allocated);
        assert_eq!(by_cons.allocated_for_work, by_alloc.allocated_for_work);
        assert_eq!(by_cons.live_objects, by_alloc.live_objects);
        assert!(by_cons.page_is_dirty(0));
    }

    #[test]
    fn collection_keeps_what_roots_reach_and_reuses_the_rest() {
        let mut heap = Heap::new();
        let kept = heap.list([1, 2, 3].into_iter().map(Value::small));
        let _garbage = heap.list([4, 5].into_iter().map(Value::small));
        heap.collect(std::iter::once(kept));
        assert_eq!(heap.object_count(), 3);
        assert_eq!(heap.list_items(kept), Some(vec![Value::small(1), Value::small(2), Value::small(3)]));
        let reused = heap.cons(Value::NIL, Value::NIL);
        assert!(reused.as_object().unwrap() < 5, "a freed slot is reused");
    }

    #[test]
    fn a_shrinking_arena_marks_its_new_last_page_dirty() {
        let mut heap = Heap::new();
        // Page 0 full; page 1 holds one object.
        let objects: Vec<Value> = (0..OBJECTS_PER_PAGE + 1).map(|i| heap.cons(Value::small(i), Value::NIL)).collect();
        // Free the second half of page 0 (and keep the last object, so the arena cannot shrink yet).
        let kept: Vec<Value> =
            objects[..OBJECTS_PER_PAGE / 2].iter().chain(&objects[OBJECTS_PER_PAGE..]).copied().collect();
        heap.collect(kept.iter().copied());
        heap.clear_dirty();
        // Now the last object dies: the arena shrinks into page 0, whose slots were already free.
        heap.collect(kept[..OBJECTS_PER_PAGE / 2].iter().copied());
        assert_eq!(heap.arena_len(), OBJECTS_PER_PAGE / 2);
        assert!(heap.page_is_dirty(0), "page 0 is shorter now, so it must be written again");
    }

    #[test]
    fn cycles_are_collected_and_ids_stay_stable() {
        let mut heap = Heap::new();
        let a = heap.cons(Value::NIL, Value::NIL);
        let b = heap.cons(a, a);
        if let Some(Object::Pair(_, cdr)) = heap.get_mut(a) {
            *cdr = b;
        }
        let survivor = heap.cons(Value::TRUE, Value::NIL);
        heap.collect(std::iter::once(survivor));
        assert_eq!(heap.object_count(), 1);
        assert_eq!(heap.pair(survivor), Some((Value::TRUE, Value::NIL)));
        assert!(heap.get(a).is_none());
    }
}
