#include "events/outbox.h"

#include "engine/records.h"
#include "quota/quota_ledger.h"
#include "store/schema.h"

namespace trashd {

void Outbox::SetQueuedTypes(const std::optional<std::set<std::string>>& types) {
  if (!types) {
    types_.store(nullptr);
    return;
  }
  types_.store(std::make_shared<const std::set<std::string, std::less<>>>(types->begin(),
                                                                          types->end()));
}

bool Outbox::Queues(std::string_view type) const {
  auto types = types_.load();
  return !types || types->count(type) > 0;
}

void Outbox::Put(WriteTxn& txn, std::string_view ws, std::string_view type,
                 std::string payload) {
  Event e;
  e.seq = QuotaLedger::NextSeq(txn, schema::kOutboxSeqKey);
  e.id = "evt_" + std::to_string(e.seq);
  e.workspace = ws;
  e.type = type;
  e.payload = std::move(payload);
  e.time = clock_->Now();
  txn.Insert(Table::kOutbox, schema::OutboxKey{e.seq}.Encode(), EncodeEvent(e));
}

std::vector<Event> Outbox::Pending(ReadTxn& txn, uint64_t after_seq, size_t limit) {
  std::vector<Event> out;
  auto c = txn.OpenCursor(Table::kOutbox);
  for (c->Seek(schema::OutboxKey{after_seq + 1}.Encode());
       c->Valid() && out.size() < limit; c->Next()) {
    Event e;
    if (DecodeEvent(c->value(), &e)) out.push_back(std::move(e));
  }
  return out;
}

void Outbox::Ack(WriteTxn& txn, uint64_t up_to_seq) {
  std::vector<std::string> done;
  auto c = txn.OpenCursor(Table::kOutbox);
  schema::OutboxKey event;
  for (c->Seek(""); c->Valid() && schema::OutboxKey::Decode(c->key(), &event) &&
                    event.seq <= up_to_seq;
       c->Next()) {
    done.emplace_back(c->key());
  }
  c.reset();
  for (const auto& k : done) txn.Del(Table::kOutbox, k);
}

}  // namespace trashd
