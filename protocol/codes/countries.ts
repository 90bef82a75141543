/**
 * ISO 3166-1 alpha-2 country codes (officially assigned, as published by the ISO 3166 Maintenance Agency),
 * shipped as data so validation never needs the network. `from`/`to` of envelopes and every country field of
 * the message schemas use this list.
 */
import { z } from 'zod';

export const ISO_3166_ALPHA2 = [
  'AD','AE','AF','AG','AI','AL','AM','AO','AQ','AR','AS','AT','AU','AW','AX','AZ','BA','BB','BD','BE','BF','BG',
  'BH','BI','BJ','BL','BM','BN','BO','BQ','BR','BS','BT','BV','BW','BY','BZ','CA','CC','CD','CF','CG','CH','CI',
  'CK','CL','CM','CN','CO','CR','CU','CV','CW','CX','CY','CZ','DE','DJ','DK','DM','DO','DZ','EC','EE','EG','EH',
  'ER','ES','ET','FI','FJ','FK','FM','FO','FR','GA','GB','GD','GE','GF','GG','GH','GI','GL','GM','GN','GP','GQ',
  'GR','GS','GT','GU','GW','GY','HK','HM','HN','HR','HT','HU','ID','IE','IL','IM','IN','IO','IQ','IR','IS','IT',
  'JE','JM','JO','JP','KE','KG','KH','KI','KM','KN','KP','KR','KW','KY','KZ','LA','LB','LC','LI','LK','LR','LS',
  'LT','LU','LV','LY','MA','MC','MD','ME','MF','MG','MH','MK','ML','MM','MN','MO','MP','MQ','MR','MS','MT','MU',
  'MV','MW','MX','MY','MZ','NA','NC','NE','NF','NG','NI','NL','NO','NP','NR','NU','NZ','OM','PA','PE','PF','PG',
  'PH','PK','PL','PM','PN','PR','PS','PT','PW','PY','QA','RE','RO','RS','RU','RW','SA','SB','SC','SD','SE','SG',
  'SH','SI','SJ','SK','SL','SM','SN','SO','SR','SS','ST','SV','SX','SY','SZ','TC','TD','TF','TG','TH','TJ','TK',
  'TL','TM','TN','TO','TR','TT','TV','TW','TZ','UA','UG','UM','US','UY','UZ','VA','VC','VE','VG','VI','VN','VU',
  'WF','WS','YE','YT','ZA','ZM','ZW',
] as const;

/** The CAREC member administrations this product is built for (a node may still name any ISO country). */
export const CAREC_COUNTRIES = ['AF', 'AZ', 'CN', 'GE', 'KZ', 'KG', 'MN', 'PK', 'TJ', 'TM', 'UZ'] as const;

const COUNTRY_SET: ReadonlySet<string> = new Set(ISO_3166_ALPHA2);

export const CountryCode = z
  .string()
  .refine((v) => COUNTRY_SET.has(v), { message: 'expected an ISO 3166-1 alpha-2 country code in upper case, like "KZ"' });
export type CountryCode = z.infer<typeof CountryCode>;

/**
 * A country that narrows what a request reads (`?partner=kg`, `gnc messages --partner kg`, the partner of
 * `/v1/aeo/{partner}/{aeoId}`): read in any letter case, as the upper-case code. Documents, envelopes and
 * configurations keep CountryCode: what is signed or stored names the country one way.
 */
export const CountryFilter = z
  .string()
  .toUpperCase()
  .refine((v) => COUNTRY_SET.has(v), { message: 'expected an ISO 3166-1 alpha-2 country code, like "KZ"' });

export function isCountryCode(v: string): boolean {
  return COUNTRY_SET.has(v);
}
