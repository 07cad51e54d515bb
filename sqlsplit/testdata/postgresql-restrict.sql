--
-- PostgreSQL database dump
--

\restrict AD4shhdPANDZ4qwa5weK7MLHfFhzSqjTk80ZdtGShninUESJKsVw36VW64yKq22

SET statement_timeout = 0;
SELECT pg_catalog.set_config('search_path', '', false);
CREATE TABLE public.a (id integer);

\unrestrict AD4shhdPANDZ4qwa5weK7MLHfFhzSqjTk80ZdtGShninUESJKsVw36VW64yKq22
