extension Log {
    /// Seals `segment`: writes its footer after the last frame, cuts the file there and syncs it.
    /// Needs `writer`. A failed fdatasync fail-stops the log.
    func seal(_ segment: Segment) throws(LogError) {
        // The frames must be on disk before the footer that vouches for them: a power cut could otherwise
        // keep the footer (and the trimmed size) but lose frame pages, and opening trusts a valid footer.
        if last > synced || dirtyUntil > 0 {
            do { try fs.fdatasync(segment.fd, path: segment.path) } catch { throw failStop(error) }
            setSynced(max(synced, segment.endIndex - 1))
        }
        let footer = Footer.encode(offsets: segment.offsets, firstIndex: segment.baseIndex, footerStart: segment.dataEnd,
                                   monotonicTerms: segment.monotonicTerms)
        let size = segment.dataEnd + footer.count
        do {
            try fs.pwrite(segment.fd, footer, at: Int64(segment.dataEnd), path: segment.path)
            try fs.ftruncate(segment.fd, size: Int64(size), path: segment.path)
        } catch {
            if error.errno == ENOSPC_CODE { throw mapError(error) }
            throw failStop(error)
        }
        do { try fs.fdatasync(segment.fd, path: segment.path) } catch { throw failStop(error) }
        state.withWriteLock {
            segment.sealed = true
            segment.fileSize = size
        }
        segment.staleEnd = 0  // cut after the footer
        setSynced(max(synced, segment.endIndex - 1))
        dirtyUntil = 0
    }

    /// Creates the next segment (temporary name, header, preallocation, fsync, rename, directory fsync)
    /// and makes it the active one, in a spare file when one is kept (Recycling.swift). ENOSPC throws `.noSpace` and changes nothing. Needs `writer`.
    func createSegment(baseIndex: UInt64, capacity: Int) throws(LogError) -> Segment {
        let id = nextSegmentId
        let name = SegmentFormat.fileName(id: id, baseIndex: baseIndex)
        let final = path(name)
        let temporary = final + ".tmp"
        // A recycled file keeps its blocks up to the old frames' end (capped at the new capacity); the
        // rest of the capacity is preallocated as for a fresh file.
        let spare = takeSpare(as: temporary)
        let stale = min(spare?.dataEnd ?? 0, capacity)
        // The header, then (when a hard state was ever saved) a copy of the current hard state: the
        // newest hard state must stay in the last segment, the only one opening scans.
        let record = hardSeq > 0 ? Frame.hardStateRecordSize(hard) : 0
        var header = [UInt8](repeating: 0, count: SegmentFormat.headerSize + record)
        let current = hard
        let seq = hardSeq
        let previousSalt = stale > SegmentFormat.headerSize ? spare?.salt ?? 0 : 0
        header.withUnsafeMutableBytes { raw in
            guard let base = raw.baseAddress else { return }
            SegmentFormat.encodeHeader(baseIndex: baseIndex, segmentId: id, previousSalt: previousSalt, into: base)
            if record > 0 {
                Frame.writeHardState(base + SegmentFormat.headerSize, current, seq: seq, lastIndex: baseIndex &- 1,
                                     syncLag: 0, salt: SegmentFormat.salt(id))
            }
        }
        let dataStart = header.count
        var fd: Int32 = -1
        let segment: Segment
        do {
            fd = try fs.open(temporary, create: true, readOnly: false)
            try fs.ftruncate(fd, size: Int64(stale), path: temporary)
            try fs.preallocate(fd, offset: 0, length: Int64(capacity), path: temporary)
            let map = try fs.map(fd, length: capacity, path: temporary)
            segment = Segment(
                id: id, baseIndex: baseIndex, name: name, path: final, fd: fd, map: map, mapLength: capacity,
                offsets: [], dataEnd: dataStart, fileSize: capacity, sealed: false)
        } catch {
            if fd >= 0 { fs.close(fd) }
            try? fs.unlink(temporary)
            throw mapError(error)
        }
        // In a recycled file, find the old frame boundary at or after the data start before the header
        // overwrites the first old frames, then zero up to it: what follows the frames is then zeros and
        // whole old frames (skipped as stale), never a piece of one.
        var pad = dataStart
        if previousSalt != 0 {
            segment.staleSalt = previousSalt
            segment.staleEnd = stale
            segment.staleCursor = SegmentFormat.headerSize
            pad = segment.staleBoundary(atOrAfter: dataStart) ?? dataStart
        }
        do { try fs.pwrite(fd, header, at: 0, path: temporary) } catch {
            segment.release(fs)
            try? fs.unlink(temporary)
            throw mapError(error)
        }
        if pad > dataStart {
            do { try writeZeros(segment, from: dataStart, to: pad) } catch {
                segment.release(fs)
                try? fs.unlink(temporary)
                throw error
            }
        }
        // Below `stale` the blocks are written already (old frames): the zero-fill ahead starts after them.
        var zeroed = max(dataStart, stale)
        if zeroFillsAhead {
            let target = min(capacity, dataStart + options.zeroFillAheadBytes)
            if target > zeroed {
                do { try writeZeros(segment, from: zeroed, to: target) } catch {
                    segment.release(fs)
                    try? fs.unlink(temporary)
                    throw error
                }
                zeroed = target
            }
        }
        do {
            try fs.fsync(fd, path: temporary)
        } catch {
            segment.release(fs)
            throw failStop(error)
        }
        do { try fs.rename(temporary, final) } catch {
            segment.release(fs)
            try? fs.unlink(temporary)
            throw mapError(error)
        }
        do { try fs.syncDirectory(directory) } catch {
            segment.release(fs)
            throw failStop(error)
        }
        nextSegmentId += 1
        state.withWriteLock { segments.append(segment) }
        if dataStart > SegmentFormat.headerSize { hardLocation = (id, SegmentFormat.headerSize) }
        zeroedEnd = max(zeroed, dataStart)
        dirtyUntil = 0
        writebackStart = dataStart
        return segment
    }
}

#if canImport(Glibc)
import Glibc
let ENOSPC_CODE = Glibc.ENOSPC
#elseif canImport(Darwin)
import Darwin
let ENOSPC_CODE = Darwin.ENOSPC
#endif
