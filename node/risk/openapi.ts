/** The risk routes' entries in the OpenAPI document, generated from the schemas in protocol/risk.ts. */
import * as risk from '../../protocol/risk.js';
import { registerOperations } from '../api/openapi.js';

let done = false;

export function registerRiskOperations(): void {
  if (done) return;
  done = true;
  registerOperations(
    {
      '/v1/arrivals': { get: { summary: 'Consignments expected at this border (received ACI, amendments applied) with their risk level and indicators; cursor pagination', scope: 'read', response: 'ArrivalList', query: risk.ArrivalsQuery } },
      '/v1/arrivals/stream': {
        get: {
          summary: 'Server-sent events (text/event-stream) of new and changed assessments; resume with Last-Event-ID or ?after=', scope: 'read', response: 'AssessmentEvent', query: risk.StreamQuery, headers: risk.StreamHeaders,
          produces: {
            only: true,
            types: {
              'text/event-stream': 'events "assessment", id = the event id, data = one AssessmentEvent as JSON; a stream that resumes before events no longer held (kept 7 days) starts with one event "gap", id = the newest of them, data = a FeedGap: resynchronise from GET /v1/arrivals, then read on',
            },
          },
        },
      },
      '/v1/arrivals/export': {
        get: {
          summary: 'The filtered arrivals as CSV (format=csv) or JSON lines (format=jsonl)', scope: 'read', response: 'ArrivalView', query: risk.ExportQuery,
          produces: { only: true, types: { 'text/csv': 'one line per arrival, columns as its header line names them (a text cell starting with =, +, -, @, tab or CR gets a leading \'); purgedVersions holds the ArrivalView purgedVersions as text, "amendment ID created TIME purged TIME; ..." (empty when none): the row shows an older version, or is active although cancelled, because those were purged at their retention end; the last, unNumbers, holds goods.unNumbers separated by spaces (empty when none). Columns added later go after it', 'application/x-ndjson': 'one ArrivalView per line' } },
          problems: {
            400: 'GNC_SCHEMA_INVALID: a filter or format is invalid; GNC_REQUEST_MALFORMED: the request is HTTP/1.0, whose body has no final chunk to tell a whole export from one cut off (the client stalled 30 s, an error, the node stopping): send it as HTTP/1.1. A 200 whose body ends without its final chunk is incomplete: request it again',
          },
        },
      },
      '/v1/arrivals/{id}': {
        get: {
          summary: 'One consignment (id of its original declaration or of any version held), of the partner given when two or more partners have the id: version in force, history, assessment with the evidence of every indicator', scope: 'read', response: 'ArrivalDetail', query: risk.ArrivalDetailQuery,
          problems: {
            404: 'GNC_NOT_FOUND: no consignment and no version of one has this id (from that partner, with ?partner=); also a purged version once nothing of its consignment is held and the latest retention end of its purged versions is 30 days past',
            409: 'GNC_CONFLICT: without ?partner=, two or more partners have a consignment or version with this id (message ids are unique per partner only); the detail names them: ask again with ?partner=XX',
            410: 'GNC_ARRIVAL_PURGED: the id names a version (declaration, amendment, cancellation) whose content was purged at its retention end; the detail says when and names its consignment (GET /v1/arrivals/{that id} while it is held); 404 once that record is pruned, 30 days after the latest retention end of a consignment no longer held',
          },
        },
      },
      '/v1/aeo': { get: { summary: 'Partner AEO registry: operators by partner and AEO id or national trader id, or by a word prefix of their legal name (name), with status history; cursor pagination', scope: 'read', response: 'AeoList', query: risk.AeoQuery } },
      '/v1/aeo/pending': {
        get: { summary: 'Partner AEO snapshots sent in parts that still lack a part: they show in the registry only once every part is in', scope: 'read', response: 'AeoPendingList', query: risk.AeoPendingQuery },
      },
      '/v1/aeo/{partner}/{aeoId}': { get: { summary: 'One operator of a partner registry; with ?at=YYYY-MM-DD whether it was a valid AEO on that date', scope: 'read', response: 'AeoRecordView', query: risk.AeoAtQuery } },
    },
    { ArrivalList: risk.ArrivalList, ArrivalView: risk.ArrivalView, ArrivalDetail: risk.ArrivalDetail, AssessmentEvent: risk.AssessmentEvent, FeedGap: risk.FeedGap, AeoList: risk.AeoList, AeoRecordView: risk.AeoRecordView,
      AeoPendingList: risk.AeoPendingList },
  );
}
