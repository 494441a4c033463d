// Txn apply (spec 6.4): every compare on the chosen path evaluated against the state before the txn, then
// the put and range checks on that path, then the chosen ops in order in one write at revision R + 1.

/// The branch taken by a txn and, in order, by each nested txn of that branch.
struct TxnPath {
    var succeeded: Bool
    var nested: [TxnPath]
}

extension KVStore {
    mutating func txn(_ t: TxnRequest, options: KVOptions) -> KVResult {
        let path = txnPath(t)
        if !KVValidation.isReadOnly(t), let e = checkPuts(t, path) { return .failure(e) }
        if let e = checkRanges(t, path) { return .failure(e) }
        let before = revision
        var changed = false
        let responses = run(t, path, before: before, changed: &changed, options: options)
        if changed { revision = before + 1 }
        return .success(.txn(TxnResponse(revision: revision, succeeded: path.succeeded, responses: responses)))
    }

    func txnPath(_ t: TxnRequest) -> TxnPath {
        let ok = t.compare.allSatisfy { holds($0) }
        var nested: [TxnPath] = []
        for op in ok ? t.success : t.failure { if case .txn(let n) = op { nested.append(txnPath(n)) } }
        return TxnPath(succeeded: ok, nested: nested)
    }

    /// applyCompare: every live key of the range satisfies it; no key: false for VALUE, else compared as 0.
    func holds(_ c: Compare) -> Bool {
        var any = false
        var all = true
        forEach(key: c.key, rangeEnd: c.rangeEnd, at: Int64.max) { k, v in
            any = true
            if !Self.compare(c, KeyValue(k, v)) { all = false; return false }
            return true
        }
        if !any {
            if c.target == Compare.Target.value { return false }
            return Self.compare(c, KeyValue(key: [], createRevision: 0, modRevision: 0, version: 0, value: [], lease: 0))
        }
        return all
    }

    static func compare(_ c: Compare, _ kv: KeyValue) -> Bool {
        typealias T = Compare.Target
        let result: Int
        func cmp(_ a: Int64, _ b: Int64) -> Int { a < b ? -1 : (a == b ? 0 : 1) }
        switch c.target {
        case T.value:
            if case .value(let v) = c.operand { result = compareBytes(kv.value, v) } else { result = kv.value.isEmpty ? 0 : 1 }
        case T.create:
            if case .createRevision(let v) = c.operand { result = cmp(kv.createRevision, v) } else { result = cmp(kv.createRevision, 0) }
        case T.mod:
            if case .modRevision(let v) = c.operand { result = cmp(kv.modRevision, v) } else { result = cmp(kv.modRevision, 0) }
        case T.version:
            if case .version(let v) = c.operand { result = cmp(kv.version, v) } else { result = cmp(kv.version, 0) }
        case T.lease:
            if case .lease(let v) = c.operand { result = cmp(kv.lease, v) } else { result = cmp(kv.lease, 0) }
        default:
            result = 0
        }
        switch c.result {
        case Compare.Result.equal: return result == 0
        case Compare.Result.notEqual: return result != 0
        case Compare.Result.greater: return result > 0
        case Compare.Result.less: return result < 0
        default: return true
        }
    }

    /// First pass: puts on the chosen path need their key (ignore_*) and then their lease.
    func checkPuts(_ t: TxnRequest, _ path: TxnPath) -> KVError? {
        var n = 0
        for op in path.succeeded ? t.success : t.failure {
            switch op {
            case .put(let p):
                if (p.ignoreValue || p.ignoreLease) && get(p.key) == nil { return .keyNotFound }
                if p.lease != 0 && leases[p.lease] == nil { return .leaseNotFound }
            case .txn(let nt):
                if let e = checkPuts(nt, path.nested[n]) { return e }
                n += 1
            default: break
            }
        }
        return nil
    }

    /// Second pass: ranges on the chosen path at an explicit revision must lie in [compact, current].
    func checkRanges(_ t: TxnRequest, _ path: TxnPath) -> KVError? {
        var n = 0
        for op in path.succeeded ? t.success : t.failure {
            switch op {
            case .range(let r): if let e = checkRangeRevision(r) { return e }
            case .txn(let nt):
                if let e = checkRanges(nt, path.nested[n]) { return e }
                n += 1
            default: break
            }
        }
        return nil
    }

    /// Runs the chosen ops; writes carry revision `before + 1`; `changed` becomes true at the first write.
    mutating func run(_ t: TxnRequest, _ path: TxnPath, before: Int64, changed: inout Bool, options: KVOptions)
        -> [ResponseOp]
    {
        let ops = path.succeeded ? t.success : t.failure
        var out: [ResponseOp] = []
        out.reserveCapacity(ops.count)
        var n = 0
        let rev = before + 1
        for op in ops {
            switch op {
            case .put(var p):
                // The checks saw the state before the txn; a key an earlier op deleted (only possible through
                // a from-key or reversed delete) makes etcd 3.4.23 panic. We write the request's own value
                // and lease instead, deterministically.
                if (p.ignoreValue || p.ignoreLease) && get(p.key) == nil { p.ignoreValue = false; p.ignoreLease = false }
                let resp = put(p, rev: rev) ?? PutResponse(revision: rev, prevKV: nil)
                changed = true
                out.append(.put(resp))
            case .deleteRange(let d):
                let (k, prev) = deleteRange(key: d.key, rangeEnd: d.rangeEnd, rev: rev, collect: d.prevKV)
                if k > 0 { changed = true }
                out.append(.deleteRange(DeleteRangeResponse(revision: changed ? rev : before, deleted: Int64(k), prevKVs: prev)))
            case .range(let r):
                out.append(.range(rangeOp(r, headerRevision: changed ? rev : before, options: options)))
            case .txn(let nt):
                let responses = run(nt, path.nested[n], before: before, changed: &changed, options: options)
                out.append(.txn(TxnResponse(revision: 0, succeeded: path.nested[n].succeeded, responses: responses)))
                n += 1
            case .none:
                break  // refused by validation
            }
        }
        return out
    }
}
