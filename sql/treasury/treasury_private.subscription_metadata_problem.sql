-- What is wrong with the metadata a subscription's events carry
-- (subscription_data.metadata of treasury.begin_checkout), or null.
create or replace function treasury_private.subscription_metadata_problem(sub_id text, md jsonb)
returns text
language plpgsql
stable
as $$
declare
  prod treasury.products;
begin
  if sub_id !~ '^sub_[A-Za-z0-9_]{1,250}$' then
    return format('subscription id %s is not a Subscription id', sub_id);
  end if;
  if md is null or jsonb_typeof(md) <> 'object' or nullif(md ->> 'kind', '') is null then
    return format('subscription %s has no metadata.kind: not a subscription of this app', sub_id);
  end if;
  if md ->> 'kind' not in ('membership', 'plan') then
    return format('metadata.kind must be membership or plan, got %s', md ->> 'kind');
  end if;
  if treasury_private.as_uuid(md ->> 'buyer_id') is null then
    return 'metadata.buyer_id must be a UUID';
  end if;
  if md ->> 'kind' = 'plan' then
    if coalesce(md ->> 'plan', '') not in ('basic', 'pro', 'enterprise') then
      return format('metadata.plan must be basic, pro or enterprise, got %s', coalesce(md ->> 'plan', 'null'));
    end if;
    return null;
  end if;
  if treasury_private.as_uuid(md ->> 'product_id') is null then
    return 'metadata.product_id must be a UUID';
  end if;
  select * into prod from treasury.products as p where p.id = (md ->> 'product_id')::uuid and p.type = 'membership';
  if not found then
    return format('metadata.product_id %s is not a membership product', md ->> 'product_id');
  end if;
  if treasury_private.as_uuid(md ->> 'artist_id') is distinct from prod.artist_id then
    return format('metadata.artist_id %s is not the artist of product %s', coalesce(md ->> 'artist_id', 'null'), prod.id);
  end if;
  return null;
end
$$;
