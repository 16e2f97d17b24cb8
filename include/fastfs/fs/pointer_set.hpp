// A hash set of pointers to objects that carry their own key: how the node table indexes its nodes (by
// handle, by inode number, by address) without keeping a copy of each key beside each pointer.
//
// Open addressing with linear probing over one array of pointers whose size is a power of two: 8 bytes a
// slot and no allocation per element. The array doubles when more than 3/4 of it would be used, so a
// growing set uses between 3/8 and 3/4 of its slots (11 to 21 bytes per element); it shrinks when less than
// 1/8 is used, to an array at most half used, so the memory goes back as elements go; an empty set holds
// no array. Erasing moves the rest of the probe run back into the hole (no tombstones), so lookups never
// slow down.
//
// An array of 64 KiB or more is mapped (mmap) rather than taken from the heap, so it goes back to the
// system the moment it is replaced. glibc raises its own mmap threshold each time it unmaps a block, so
// from the heap, arrays that doubled would often land in an arena, where each copy they outgrew stays
// resident until malloc_trim (some 20% more memory per node at 100,000 nodes, in 2 runs out of 5).
//
// `KeyOf` says what a key is: `Key` (cheap to copy, compared with ==), `static Key key(const T&)` and
// `static uint64_t hash(const Key&)`. Keys of the elements are unique. The set reads the elements it
// probes past (to compare their keys, and to move them when erasing and resizing): an element must be
// erased before it is destroyed. Not thread-safe: the owner locks.
#pragma once

#include <sys/mman.h>

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <new>
#include <utility>

namespace fastfs::fs {

template <typename T, typename KeyOf>
class PointerSet {
  public:
    using Key = typename KeyOf::Key;

    PointerSet() = default;
    PointerSet(const PointerSet&) = delete;
    PointerSet& operator=(const PointerSet&) = delete;

    size_t size() const { return size_; }
    // Slots in the array (0 when empty).
    size_t capacity() const { return slots_.count(); }

    // The element with key `key`, or null.
    T* find(const Key& key) const {
        if (size_ == 0) return nullptr;
        for (size_t i = slot_of(KeyOf::hash(key));; i = next(i)) {
            T* element = slots_[i];
            if (element == nullptr || KeyOf::key(*element) == key) return element;
        }
    }

    // Adds `element`, or puts it in the place of the element with the same key and returns that one.
    T* insert_or_replace(T* element) {
        if ((size_ + 1) * 4 > capacity() * 3) resize(capacity() == 0 ? kMinCapacity : capacity() * 2);
        const Key key = KeyOf::key(*element);
        for (size_t i = slot_of(KeyOf::hash(key));; i = next(i)) {
            T*& slot = slots_[i];
            if (slot == nullptr) {
                slot = element;
                ++size_;
                return nullptr;
            }
            if (KeyOf::key(*slot) == key) return std::exchange(slot, element);
        }
    }

    // Removes `element` if it is the set's element for its key (not merely one with the same key).
    bool erase(const T* element) {
        if (size_ == 0) return false;
        const Key key = KeyOf::key(*element);
        size_t i = slot_of(KeyOf::hash(key));
        for (;; i = next(i)) {
            const T* slot = slots_[i];
            if (slot == element) break;
            if (slot == nullptr || KeyOf::key(*slot) == key) return false;
        }
        close_hole(i);
        --size_;
        if (size_ * 8 < capacity()) {
            size_t wanted = capacity_for(size_);
            if (wanted != capacity()) resize(wanted);
        }
        return true;
    }

    template <typename F>
    void for_each(F&& f) const {
        for (size_t i = 0; i < capacity(); ++i)
            if (slots_[i] != nullptr) f(slots_[i]);
    }

  private:
    static constexpr size_t kMinCapacity = 16;
    static constexpr size_t kMappedBytes = 64 * 1024;

    // `count` null pointers, from the heap or (kMappedBytes or more) mapped.
    class Slots {
      public:
        Slots() = default;
        explicit Slots(size_t count) : count_(count) {
            if (count == 0) return;
            if (bytes() < kMappedBytes) {
                data_ = new T*[count]();
                return;
            }
            void* memory =
                ::mmap(nullptr, bytes(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (memory == MAP_FAILED) throw std::bad_alloc();
            data_ = static_cast<T**>(memory);  // zero-filled: null pointers
        }
        Slots(Slots&& other) noexcept
            : data_(std::exchange(other.data_, nullptr)), count_(std::exchange(other.count_, 0)) {}
        Slots& operator=(Slots&& other) noexcept {
            std::swap(data_, other.data_);
            std::swap(count_, other.count_);
            return *this;
        }
        ~Slots() {
            if (data_ == nullptr) return;
            if (bytes() < kMappedBytes)
                delete[] data_;
            else
                ::munmap(data_, bytes());
        }

        size_t count() const { return count_; }
        T*& operator[](size_t i) const { return data_[i]; }

      private:
        size_t bytes() const { return count_ * sizeof(T*); }
        T** data_ = nullptr;
        size_t count_ = 0;
    };

    // The smallest array at most half full with `count` elements (none for none).
    static size_t capacity_for(size_t count) {
        return count == 0 ? 0 : std::max(kMinCapacity, std::bit_ceil(count * 2));
    }

    // Fibonacci hashing: the top bits of the product, which every bit of the hash reaches.
    size_t slot_of(uint64_t hash) const { return size_t((hash * 0x9E3779B97F4A7C15ull) >> shift_); }
    size_t next(size_t i) const { return (i + 1) & (capacity() - 1); }

    // Empties slot `hole`, moving back every later element of its run that may not stay behind a hole:
    // one whose home slot is not in (hole, its slot], cyclically.
    void close_hole(size_t hole) {
        for (size_t i = next(hole); slots_[i] != nullptr; i = next(i)) {
            size_t home = slot_of(KeyOf::hash(KeyOf::key(*slots_[i])));
            bool stays = hole < i ? (hole < home && home <= i) : (hole < home || home <= i);
            if (stays) continue;
            slots_[hole] = slots_[i];
            hole = i;
        }
        slots_[hole] = nullptr;
    }

    void resize(size_t count) {
        Slots old = std::exchange(slots_, Slots(count));
        shift_ = count == 0 ? 0 : unsigned(64 - std::countr_zero(count));
        for (size_t at = 0; at < old.count(); ++at) {
            if (old[at] == nullptr) continue;
            size_t i = slot_of(KeyOf::hash(KeyOf::key(*old[at])));
            while (slots_[i] != nullptr)
                i = next(i);
            slots_[i] = old[at];
        }
    }

    Slots slots_;
    size_t size_ = 0;
    unsigned shift_ = 0;  // 64 - log2(capacity())
};

}  // namespace fastfs::fs
