-- Extensions, publications, comments, schemas.
-- === a
create schema app;
create table app.things (id int primary key, label text);
-- === b
create schema app;
create schema reporting;
create extension if not exists pg_trgm;
create table app.things (id int primary key, label text);
comment on table app.things is 'things we track';
comment on column app.things.label is 'shown to users';
comment on schema app is 'the application';
create publication things_pub for table app.things with (publish = 'insert, update');
